package crypt

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func TestSASRendering(t *testing.T) {
	tests := []struct {
		sas    SAS
		base32 string
		words  string
	}{
		{SAS{0, 0, 0, 0}, "yyyy", "aardvark adroitness"},
		{SAS{0xff, 0xff, 0xff, 0xff}, "9999", "Zulu Yucatan"},
		// 00001 00001 00001 00001 | 0000 0000 0000: low 12 bits ignored.
		{SAS{0x08, 0x42, 0x1f, 0xff}, "bbbb", "aimless December"},
		// 11111 00000 11111 00000
		{SAS{0xf8, 0x3e, 0x00, 0x00}, "9y9y", "Vulcan cumbersome"},
	}
	for _, tt := range tests {
		if got := tt.sas.Base32(); got != tt.base32 {
			t.Errorf("%x Base32 = %q, want %q", tt.sas[:], got, tt.base32)
		}
		if got := tt.sas.Words(); got != tt.words {
			t.Errorf("%x Words = %q, want %q", tt.sas[:], got, tt.words)
		}
		if got, want := tt.sas.String(), tt.base32+" ("+tt.words+")"; got != want {
			t.Errorf("%x String = %q, want %q", tt.sas[:], got, want)
		}
	}
}

// TestPGPWordsDigest pins the word lists: SHA-256 over the even list then
// the odd list, one word a line, as published (with capitals). The digest
// matches the one independent copies of the list are checked against.
func TestPGPWordsDigest(t *testing.T) {
	text := strings.Join(pgpEven[:], "\n") + "\n" + strings.Join(pgpOdd[:], "\n")
	sum := sha256.Sum256([]byte(text))
	const want = "e9b7b0052233a74aa56724ed3f79c272036aed68d8f4c0856e833c8043b9ac62"
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("PGP word list digest %s, want %s", got, want)
	}
	seen := map[string]bool{}
	for _, w := range append(pgpEven[:], pgpOdd[:]...) {
		if w == "" || seen[strings.ToLower(w)] {
			t.Fatalf("empty or duplicate word %q", w)
		}
		seen[strings.ToLower(w)] = true
	}
}
