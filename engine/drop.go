package engine

// DropReason names why the engine dropped a packet; each has a counter.
type DropReason uint8

const (
	DropNone DropReason = iota
)
