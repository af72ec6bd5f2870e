package crypt

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json and testdata/vectors.md from the code's output")

const (
	vectorsJSON = "testdata/vectors.json"
	vectorsMD   = "testdata/vectors.md"
	protocolDoc = "../docs/protocol.md"
)

// vectors is the file format of testdata/vectors.json. Byte strings are hex.
type vectors struct {
	InitiatorStatic    string       `json:"initiator_static_private"`
	InitiatorPublic    string       `json:"initiator_static_public"`
	InitiatorEphemeral string       `json:"initiator_ephemeral_private"`
	ResponderStatic    string       `json:"responder_static_private"`
	ResponderPublic    string       `json:"responder_static_public"`
	ResponderEphemeral string       `json:"responder_ephemeral_private"`
	CallerCall         uint16       `json:"caller_call"`
	CalleeCall         uint16       `json:"callee_call"`
	Offer              []string     `json:"offer"`
	OfferMarker        string       `json:"offer_marker"`
	Frame              string       `json:"frame"`
	Cases              []vectorCase `json:"cases"`
}

type vectorCase struct {
	ResponderPrefs []string `json:"responder_prefs"`
	Cipher         string   `json:"cipher"`
	AnswerMarker   string   `json:"answer_marker"`
	HandshakeHash  string   `json:"handshake_hash"`
	KeyI2R         string   `json:"key_initiator_to_responder"`
	KeyR2I         string   `json:"key_responder_to_initiator"`
	SAS            string   `json:"sas"`
	SASBase32      string   `json:"sas_base32"`
	SASWords       string   `json:"sas_words"`
	SealedI2R      string   `json:"encrypted_frame_initiator_to_responder"`
	SealedR2I      string   `json:"encrypted_frame_responder_to_initiator"`
}

// computeVectors runs the protocol on the fixed inputs of v and fills in
// every output field.
func computeVectors(t *testing.T, in vectors) vectors {
	t.Helper()
	v := in
	iid := mustIdentity(t, mustHex(t, v.InitiatorStatic))
	rid := mustIdentity(t, mustHex(t, v.ResponderStatic))
	ip, rp := iid.Public(), rid.Public()
	v.InitiatorPublic, v.ResponderPublic = hex.EncodeToString(ip[:]), hex.EncodeToString(rp[:])
	offer := parseCiphers(t, v.Offer)
	frame := mustHex(t, v.Frame)
	for k := range v.Cases {
		c := &v.Cases[k]
		init, offerMarker, err := NewInitiator(iid, v.CallerCall, offer, bytes.NewReader(mustHex(t, v.InitiatorEphemeral)))
		if err != nil {
			t.Fatalf("NewInitiator: %v", err)
		}
		v.OfferMarker = hex.EncodeToString(offerMarker)
		rs, answer, err := Respond(rid, offerMarker, v.CallerCall, v.CalleeCall, parseCiphers(t, c.ResponderPrefs), bytes.NewReader(mustHex(t, v.ResponderEphemeral)))
		if err != nil {
			t.Fatalf("Respond: %v", err)
		}
		is, err := init.Finish(answer, v.CalleeCall)
		if err != nil {
			t.Fatalf("Finish: %v", err)
		}
		if is.SAS != rs.SAS || is.Sealer.key != rs.Opener.key || rs.Sealer.key != is.Opener.key {
			t.Fatalf("sides disagree")
		}
		c.Cipher = is.Cipher.String()
		c.AnswerMarker = hex.EncodeToString(answer)
		c.HandshakeHash = hex.EncodeToString(is.HandshakeHash[:])
		c.KeyI2R = hex.EncodeToString(is.Sealer.key[:])
		c.KeyR2I = hex.EncodeToString(rs.Sealer.key[:])
		c.SAS = hex.EncodeToString(is.SAS[:])
		c.SASBase32 = is.SAS.Base32()
		c.SASWords = is.SAS.Words()
		i2r, err := is.Sealer.Seal(nil, frame, v.CallerCall, v.CalleeCall)
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		r2i, err := rs.Sealer.Seal(nil, frame, v.CalleeCall, v.CallerCall)
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		c.SealedI2R, c.SealedR2I = hex.EncodeToString(i2r), hex.EncodeToString(r2i)
		// The vectors must also open, on the right side only.
		if got, _, err := rs.Opener.Open(nil, i2r); err != nil || !bytes.Equal(got, frame) {
			t.Fatalf("responder cannot open its vector: %v", err)
		}
		if got, _, err := is.Opener.Open(nil, r2i); err != nil || !bytes.Equal(got, frame) {
			t.Fatalf("initiator cannot open its vector: %v", err)
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
		InitiatorEphemeral: hex.EncodeToString(seq(0x20, 32)),
		ResponderStatic:    hex.EncodeToString(seq(0x40, 32)),
		ResponderEphemeral: hex.EncodeToString(seq(0x60, 32)),
		CallerCall:         0x0001,
		CalleeCall:         0x0002,
		Offer:              []string{"chacha20-poly1305", "aes-256-gcm"},
		Frame:              hex.EncodeToString(miniFrame()),
		Cases: []vectorCase{
			{ResponderPrefs: []string{"chacha20-poly1305", "aes-256-gcm"}},
			{ResponderPrefs: []string{"aes-256-gcm", "chacha20-poly1305"}},
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
	if len(want.Cases) != 2 {
		t.Fatalf("%d cases in %s, want 2", len(want.Cases), vectorsJSON)
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
	s := []string{v.InitiatorStatic, v.InitiatorPublic, v.InitiatorEphemeral, v.ResponderStatic,
		v.ResponderPublic, v.ResponderEphemeral, v.OfferMarker}
	for _, c := range v.Cases {
		s = append(s, c.AnswerMarker, c.HandshakeHash, c.KeyI2R, c.KeyR2I, c.SAS, c.SASBase32,
			c.SASWords, c.SealedI2R, c.SealedR2I)
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
	fmt.Fprintf(&b, "Inputs: caller call number %d, callee call number %d, offer %s, frame: the 164-byte mini frame `00 01 00 a0` followed by 160 bytes `d5`.\n\n",
		v.CallerCall, v.CalleeCall, strings.Join(v.Offer, ", "))
	block("Initiator static private key", v.InitiatorStatic)
	block("Initiator static public key", v.InitiatorPublic)
	block("Initiator ephemeral private key (the 32 bytes read from rng)", v.InitiatorEphemeral)
	block("Responder static private key", v.ResponderStatic)
	block("Responder static public key", v.ResponderPublic)
	block("Responder ephemeral private key", v.ResponderEphemeral)
	block("Offer marker (IE 0xC3 data)", v.OfferMarker)
	for _, c := range v.Cases {
		fmt.Fprintf(&b, "### Responder preference %s: %s chosen\n\n", strings.Join(c.ResponderPrefs, ", "), c.Cipher)
		block("Answer marker", c.AnswerMarker)
		block("Handshake hash", c.HandshakeHash)
		block("Transport key initiator→responder", c.KeyI2R)
		block("Transport key responder→initiator", c.KeyR2I)
		fmt.Fprintf(&b, "SAS: `%s`, base32 `%s`, words `%s`.\n\n", c.SAS, c.SASBase32, c.SASWords)
		block("Encrypted frame initiator→responder (sender 1, receiver 2, counter 0)", c.SealedI2R)
		block("Encrypted frame responder→initiator (sender 2, receiver 1, counter 0)", c.SealedR2I)
	}
	return b.String()
}
