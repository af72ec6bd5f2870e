package crypt

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/iaxcrypt/iaxcrypt/iax"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json and testdata/vectors.md from the code's output")

const (
	vectorsJSON = "testdata/vectors.json"
	vectorsMD   = "testdata/vectors.md"
	protocolDoc = "../docs/protocol.md"
)

// vectors is the file format of testdata/vectors.json. Byte strings are hex.
type vectors struct {
	InitiatorStatic    string        `json:"initiator_static_private"`
	InitiatorPublic    string        `json:"initiator_static_public"`
	InitiatorReveal    string        `json:"initiator_reveal_r"`
	InitiatorEphemeral string        `json:"initiator_ephemeral_private"`
	ResponderStatic    string        `json:"responder_static_private"`
	ResponderPublic    string        `json:"responder_static_public"`
	ResponderEphemeral string        `json:"responder_ephemeral_private"`
	NewIEs             string        `json:"new_ies"`
	AcceptIEs          string        `json:"accept_ies"`
	Frame              string        `json:"frame"`
	Cases              []vectorCase  `json:"cases"`
	Trunks             []trunkVector `json:"trunks"`
}

type vectorCase struct {
	CallerCall     uint16   `json:"caller_call"`
	CalleeCall     uint16   `json:"callee_call"`
	Offer          []string `json:"offer"`
	ResponderPrefs []string `json:"responder_prefs"`
	Cipher         string   `json:"cipher"`
	Prologue       string   `json:"prologue"`
	Commitment     string   `json:"commitment"`
	OfferMarker    string   `json:"offer_marker"`
	AnswerMarker   string   `json:"answer_marker"`
	HandshakeHash  string   `json:"handshake_hash"`
	KeyI2R         string   `json:"key_initiator_to_responder"`
	KeyR2I         string   `json:"key_responder_to_initiator"`
	Confirmation   string   `json:"confirmation"`
	SAS            string   `json:"sas"`
	SASBase32      string   `json:"sas_base32"`
	SASWords       string   `json:"sas_words"`
	FrameI2R0      string   `json:"frame_i2r_counter0_confirmation"`
	FrameR2I0      string   `json:"frame_r2i_counter0"`
	FrameR2I1      string   `json:"frame_r2i_counter1_confirmed"`
	FrameI2R1      string   `json:"frame_i2r_counter1"`
}

// trunkVector is a trunk frame from the responders' host to the
// initiators' host carrying one entry of each case's call.
type trunkVector struct {
	CmdData   uint8  `json:"cmd_data"`
	Timestamp uint32 `json:"timestamp"`
	Clear     string `json:"cleartext_trunk"`
	Encrypted string `json:"encrypted_trunk"`
}

// computeVectors runs the protocol on the fixed inputs of v and fills in
// every output field.
func computeVectors(t *testing.T, in vectors) vectors {
	t.Helper()
	v := in
	v.Cases = slices.Clone(in.Cases)
	v.Trunks = slices.Clone(in.Trunks)
	iid := mustIdentity(t, mustHex(t, v.InitiatorStatic))
	rid := mustIdentity(t, mustHex(t, v.ResponderStatic))
	ip, rp := iid.Public(), rid.Public()
	v.InitiatorPublic, v.ResponderPublic = hex.EncodeToString(ip[:]), hex.EncodeToString(rp[:])
	newIEs, acceptIEs := mustHex(t, v.NewIEs), mustHex(t, v.AcceptIEs)
	frame := mustHex(t, v.Frame)
	x := hex.EncodeToString
	var callers, callees []*Session
	for k := range v.Cases {
		c := &v.Cases[k]
		rng := bytes.NewReader(append(mustHex(t, v.InitiatorReveal), mustHex(t, v.InitiatorEphemeral)...))
		init, offerMarker, err := NewInitiator(iid, c.CallerCall, newIEs, parseCiphers(t, c.Offer), rng)
		if err != nil {
			t.Fatalf("NewInitiator: %v", err)
		}
		c.Prologue = x(prologue(c.CallerCall, newIEs))
		o, _ := ParseOffer(offerMarker)
		c.Commitment = x(o.Commitment[:])
		c.OfferMarker = x(offerMarker)
		rs, answer, err := Respond(rid, offerMarker, c.CallerCall, c.CalleeCall, newIEs, acceptIEs, parseCiphers(t, c.ResponderPrefs), bytes.NewReader(mustHex(t, v.ResponderEphemeral)))
		if err != nil {
			t.Fatalf("Respond: %v", err)
		}
		is, err := init.Finish(answer, c.CalleeCall, acceptIEs)
		if err != nil {
			t.Fatalf("Finish: %v", err)
		}
		c.Cipher = is.Cipher.String()
		c.AnswerMarker = x(answer)
		c.HandshakeHash = x(is.HandshakeHash[:])
		c.KeyI2R = x(is.send.key[:])
		c.KeyR2I = x(rs.send.key[:])
		c.Confirmation = x(is.confirm[:])
		seal := func(s *Session, from, to uint16) []byte {
			p, err := s.Seal(nil, frame, from, to)
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			return p
		}
		open := func(s *Session, p []byte, wantNow bool) {
			got, now, err := s.Open(nil, p)
			if err != nil || now != wantNow || !bytes.Equal(got, frame) {
				t.Fatalf("vector does not open: %v, confirmedNow %v", err, now)
			}
		}
		i2r0 := seal(is, c.CallerCall, c.CalleeCall)
		r2i0 := seal(rs, c.CalleeCall, c.CallerCall)
		open(rs, i2r0, true)
		open(is, r2i0, false)
		r2i1 := seal(rs, c.CalleeCall, c.CallerCall)
		open(is, r2i1, true)
		i2r1 := seal(is, c.CallerCall, c.CalleeCall)
		open(rs, i2r1, false)
		if is.SAS != rs.SAS || rs.PeerIdentity != ip || is.PeerIdentity != rp {
			t.Fatalf("sides disagree")
		}
		c.SAS = x(is.SAS[:])
		c.SASBase32 = is.SAS.Base32()
		c.SASWords = is.SAS.Words()
		c.FrameI2R0, c.FrameR2I0, c.FrameR2I1, c.FrameI2R1 = x(i2r0), x(r2i0), x(r2i1), x(i2r1)
		callers, callees = append(callers, is), append(callees, rs)
	}
	for k := range v.Trunks {
		tv := &v.Trunks[k]
		tf := iax.TrunkFrame{CmdData: tv.CmdData, Timestamp: tv.Timestamp}
		clearFrame := tf.AppendTo(nil)
		var b TrunkBuilder
		b.Start(nil, tv.CmdData, tv.Timestamp)
		for j, c := range v.Cases {
			e := iax.TrunkEntry{SrcCall: c.CalleeCall, Timestamp: 0x00a0, Data: frame[4:]}
			clearFrame = iax.AppendTrunkEntry(clearFrame, tv.CmdData&1 != 0, e)
			if err := b.Add(callees[j], c.CallerCall, e); err != nil {
				t.Fatalf("trunk Add: %v", err)
			}
		}
		tv.Clear, tv.Encrypted = x(clearFrame), x(b.Packet())
		r, err := ReadTrunk(b.Packet())
		if err != nil {
			t.Fatalf("ReadTrunk: %v", err)
		}
		out := r.AppendHeader(nil)
		for j := 0; r.Next(); j++ {
			if out, _, err = callers[j].OpenTrunkEntry(out, r.Entry(), v.Cases[j].CallerCall); err != nil {
				t.Fatalf("trunk vector does not open: %v", err)
			}
		}
		if !bytes.Equal(out, clearFrame) {
			t.Fatalf("trunk vector does not rebuild the cleartext trunk")
		}
	}
	return v
}

func parseCiphers(t *testing.T, names []string) []Cipher {
	t.Helper()
	var cs []Cipher
	for _, n := range names {
		c, err := ParseCipher(n)
		if err != nil {
			t.Fatalf("%v", err)
		}
		cs = append(cs, c)
	}
	return cs
}

// vectorInputs are the fixed inputs; only -update uses them, the test reads
// its inputs from the JSON file.
func vectorInputs() vectors {
	return vectors{
		InitiatorStatic:    hex.EncodeToString(seq(0x00, 32)),
		InitiatorReveal:    hex.EncodeToString(seq(0xa0, 32)),
		InitiatorEphemeral: hex.EncodeToString(seq(0x20, 32)),
		ResponderStatic:    hex.EncodeToString(seq(0x40, 32)),
		ResponderEphemeral: hex.EncodeToString(seq(0x60, 32)),
		NewIEs:             hex.EncodeToString(newIEs()),
		AcceptIEs:          hex.EncodeToString(acceptIEs()),
		Frame:              hex.EncodeToString(miniFrame()),
		Cases: []vectorCase{
			{CallerCall: 1, CalleeCall: 2, Offer: []string{"chacha20-poly1305", "aes-256-gcm"}, ResponderPrefs: []string{"chacha20-poly1305", "aes-256-gcm"}},
			{CallerCall: 3, CalleeCall: 4, Offer: []string{"chacha20-poly1305", "aes-256-gcm"}, ResponderPrefs: []string{"aes-256-gcm", "chacha20-poly1305"}},
		},
		Trunks: []trunkVector{
			{CmdData: 0, Timestamp: 0x00001000},
			{CmdData: 1, Timestamp: 0x00001014},
		},
	}
}

func TestVectors(t *testing.T) {
	if *update {
		v := computeVectors(t, vectorInputs())
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(vectorsJSON, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(vectorsMD, []byte(vectorsMarkdown(v)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(vectorsJSON)
	if err != nil {
		t.Fatalf("read vectors (run with -update to create): %v", err)
	}
	var want vectors
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatalf("parse %s: %v", vectorsJSON, err)
	}
	if len(want.Cases) != 2 || len(want.Trunks) != 2 {
		t.Fatalf("%d cases and %d trunks in %s, want 2 and 2", len(want.Cases), len(want.Trunks), vectorsJSON)
	}
	got := computeVectors(t, want)
	gj, _ := json.MarshalIndent(got, "", "  ")
	wj, _ := json.MarshalIndent(want, "", "  ")
	if !bytes.Equal(gj, wj) {
		t.Fatalf("code's output differs from %s:\ngot  %s\nwant %s", vectorsJSON, gj, wj)
	}

	// docs/protocol.md prints the same vectors; check every value is there.
	doc, err := os.ReadFile(protocolDoc)
	if err != nil {
		t.Fatalf("read %s: %v", protocolDoc, err)
	}
	section := docSection(string(doc), "Test vectors")
	if section == "" {
		t.Fatalf("%s has no \"Test vectors\" section", protocolDoc)
	}
	flat := regexp.MustCompile(`\s+`).ReplaceAllString(section, "")
	for _, s := range vectorStrings(want) {
		if !strings.Contains(flat, strings.ReplaceAll(s, " ", "")) {
			t.Errorf("%s \"Test vectors\" lacks %q", protocolDoc, s)
		}
	}
}

// docSection returns the text of the "## name" section of a markdown file.
func docSection(doc, name string) string {
	_, rest, ok := strings.Cut(doc, "\n## "+name+"\n")
	if !ok {
		return ""
	}
	if i := strings.Index(rest, "\n## "); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

func vectorStrings(v vectors) []string {
	s := []string{v.InitiatorStatic, v.InitiatorPublic, v.InitiatorReveal, v.InitiatorEphemeral, v.ResponderStatic,
		v.ResponderPublic, v.ResponderEphemeral, v.NewIEs, v.AcceptIEs}
	for _, c := range v.Cases {
		s = append(s, c.Prologue, c.Commitment, c.OfferMarker, c.AnswerMarker, c.HandshakeHash, c.KeyI2R, c.KeyR2I,
			c.Confirmation, c.SAS, c.SASBase32, c.SASWords, c.FrameI2R0, c.FrameR2I0, c.FrameR2I1, c.FrameI2R1)
	}
	for _, tv := range v.Trunks {
		s = append(s, tv.Clear, tv.Encrypted)
	}
	return s
}

// vectorsMarkdown renders the vectors for docs/protocol.md.
func vectorsMarkdown(v vectors) string {
	var b strings.Builder
	block := func(name, h string) {
		fmt.Fprintf(&b, "%s:\n\n```\n", name)
		for len(h) > 64 {
			b.WriteString(h[:64] + "\n")
			h = h[64:]
		}
		b.WriteString(h + "\n```\n\n")
	}
	b.WriteString("Inputs common to both cases. The initiator's random source yields R, then its ephemeral key; the responder's, its ephemeral key. The frame is the 164-byte mini frame `00 01 00 a0` followed by 160 bytes `d5`.\n\n")
	block("Initiator static private key", v.InitiatorStatic)
	block("Initiator static public key", v.InitiatorPublic)
	block("Initiator R (the first 32 bytes read from rng)", v.InitiatorReveal)
	block("Initiator ephemeral private key (the next 32 bytes)", v.InitiatorEphemeral)
	block("Responder static private key", v.ResponderStatic)
	block("Responder static public key", v.ResponderPublic)
	block("Responder ephemeral private key", v.ResponderEphemeral)
	block("NEW context IEs (VERSION 2, CALLED NUMBER \"100\", CALLING NAME \"Alice\", FORMAT alaw)", v.NewIEs)
	block("ACCEPT context IEs (FORMAT alaw)", v.AcceptIEs)
	for _, c := range v.Cases {
		fmt.Fprintf(&b, "### Caller call %d, callee call %d, offer %s, responder preference %s: %s chosen\n\n",
			c.CallerCall, c.CalleeCall, strings.Join(c.Offer, ", "), strings.Join(c.ResponderPrefs, ", "), c.Cipher)
		block("Prologue", c.Prologue)
		block("Commitment", c.Commitment)
		block("Offer marker (IE 0xC3 data)", c.OfferMarker)
		block("Answer marker", c.AnswerMarker)
		block("Handshake hash", c.HandshakeHash)
		block("Transport key initiator→responder", c.KeyI2R)
		block("Transport key responder→initiator", c.KeyR2I)
		block("Confirmation (caller static key, R, MAC)", c.Confirmation)
		fmt.Fprintf(&b, "SAS: `%s`, base32 `%s`, words `%s`.\n\n", c.SAS, c.SASBase32, c.SASWords)
		block("Encrypted frame initiator→responder, counter 0 (flags 01, with the confirmation)", c.FrameI2R0)
		block("Encrypted frame responder→initiator, counter 0 (flags 00, before the confirmation)", c.FrameR2I0)
		block("Encrypted frame responder→initiator, counter 1 (flags 02, confirmed)", c.FrameR2I1)
		block("Encrypted frame initiator→responder, counter 1 (flags 00, acknowledged)", c.FrameI2R1)
	}
	for k, tv := range v.Trunks {
		fmt.Fprintf(&b, "### Trunk frame %d: command data %#02x, timestamp %#08x\n\nFrom the responders' host to the initiators' host: an entry of each case's call (source call the callee's, 160 bytes `d5`, entry timestamp `00a0` when the T bit is set), sealed with the callee's session at counter %d.\n\n",
			k+1, tv.CmdData, tv.Timestamp, k+2)
		block("Cleartext trunk frame (the application's)", tv.Clear)
		block("Encrypted trunk frame", tv.Encrypted)
	}
	return b.String()
}
