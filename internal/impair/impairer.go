package impair

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"time"
)

// Rates says what happens to the datagrams of one direction. Each
// probability applies to each datagram independently.
type Rates struct {
	// Loss drops a datagram.
	Loss float64 `json:"loss"`
	// Duplicate sends a datagram twice, the copy DuplicateGap later.
	Duplicate    float64       `json:"duplicate"`
	DuplicateGap time.Duration `json:"duplicate_gap"`
	// Reorder holds a datagram back by ReorderDelay, so that the ones
	// sent after it overtake it.
	Reorder      float64       `json:"reorder"`
	ReorderDelay time.Duration `json:"reorder_delay"`
	// Delay is added to every datagram, plus up to Jitter more (uniform),
	// without reordering them: a datagram never leaves before one that
	// arrived earlier unless Reorder chose it.
	Delay  time.Duration `json:"delay"`
	Jitter time.Duration `json:"jitter"`
}

func (r Rates) check() error {
	for _, p := range []float64{r.Loss, r.Duplicate, r.Reorder} {
		if p < 0 || p > 1 {
			return fmt.Errorf("impair: probability %v out of [0, 1]", p)
		}
	}
	if r.Delay < 0 || r.Jitter < 0 || r.ReorderDelay < 0 || r.DuplicateGap < 0 {
		return fmt.Errorf("impair: negative delay")
	}
	return nil
}

// Counts are what an Impairer did to one direction.
type Counts struct {
	In         uint64 `json:"in"`
	Out        uint64 `json:"out"` // copies sent, duplicates included
	Dropped    uint64 `json:"dropped"`
	Duplicated uint64 `json:"duplicated"`
	Reordered  uint64 `json:"reordered"`
}

// Impairer decides the fate of the datagrams of one direction and holds
// them until they are due. It is not safe for concurrent use.
type Impairer struct {
	rates   Rates
	rng     *rand.Rand
	q       pending
	seq     uint64
	lastDue int64 // latest departure of an in-order datagram
	counts  Counts
}

type held struct {
	due  int64
	seq  uint64
	data []byte
}

type pending []held

func (q pending) Len() int { return len(q) }
func (q pending) Less(i, j int) bool {
	if q[i].due != q[j].due {
		return q[i].due < q[j].due
	}
	return q[i].seq < q[j].seq
}
func (q pending) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *pending) Push(x any)   { *q = append(*q, x.(held)) }
func (q *pending) Pop() any {
	old := *q
	x := old[len(old)-1]
	old[len(old)-1] = held{}
	*q = old[:len(old)-1]
	return x
}

// NewImpairer returns an Impairer for r whose choices follow seed.
func NewImpairer(r Rates, seed uint64) (*Impairer, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	if r.ReorderDelay == 0 {
		r.ReorderDelay = 5 * time.Millisecond
	}
	return &Impairer{rates: r, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}, nil
}

// Add takes a datagram that arrived at now; the Impairer keeps data (the
// caller must not reuse it) until Due hands it out.
func (m *Impairer) Add(now int64, data []byte) {
	m.counts.In++
	r := m.rates
	if r.Loss > 0 && m.rng.Float64() < r.Loss {
		m.counts.Dropped++
		return
	}
	due := now + int64(r.Delay)
	if r.Jitter > 0 {
		due += m.rng.Int64N(int64(r.Jitter) + 1)
	}
	due = max(due, m.lastDue) // jitter does not reorder
	m.lastDue = due
	if r.Reorder > 0 && m.rng.Float64() < r.Reorder {
		m.counts.Reordered++
		due += int64(r.ReorderDelay)
	}
	m.push(due, data)
	if r.Duplicate > 0 && m.rng.Float64() < r.Duplicate {
		m.counts.Duplicated++
		m.push(due+int64(r.DuplicateGap), data)
	}
}

func (m *Impairer) push(due int64, data []byte) {
	m.seq++
	heap.Push(&m.q, held{due: due, seq: m.seq, data: data})
}

// Due appends the datagrams due at now to dst, in the order they leave.
func (m *Impairer) Due(now int64, dst [][]byte) [][]byte {
	for m.q.Len() > 0 && m.q[0].due <= now {
		h := heap.Pop(&m.q).(held)
		dst = append(dst, h.data)
		m.counts.Out++
	}
	return dst
}

// Held is how many datagrams wait.
func (m *Impairer) Held() int { return m.q.Len() }

// Counts returns what the Impairer did so far.
func (m *Impairer) Counts() Counts { return m.counts }
