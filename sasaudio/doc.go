// Package sasaudio renders a call's SAS as telephone audio and reads it
// back: so that two people on unmodified phones, which cannot show the
// SAS, still get it in the call, and so that a test can prove it arrived.
//
// The scheme: each of the SAS's four z-base-32 characters (its 20 leading
// bits, the same bits the two PGP words are taken from) is its index 0-31
// written as two decimal digits, and the whole is sent as DTMF between a
// start and an end mark:
//
//	"*", d1 d2, d3 d4, d5 d6, d7 d8, "#"    e.g. "ybnd" -> *00010203#
//
// each symbol a 100 ms DTMF tone pair (ITU-T Q.23 frequencies) followed by
// 60 ms of silence, 1.6 s in all plus 100 ms of silence on either side.
// Why DTMF: it is the one signal every telephone path is built to carry
// intact (G.711, jitter buffers, echo cancellers leave it decodable, and
// many desk phones and PBXs show received digits); its detection is
// standard (Goertzel), robust to noise and to level changes, and needs
// no voice recordings, which iaxcrypt does not ship. Digits rather than
// letters keep it speakable: a person who sees or is told "00 01 02 03"
// can read it aloud like the SAS itself. What it is not: a spoken SAS
// (tones must be told apart by a device, not by ear), and not proof
// against a man in the middle by itself (he can replace audio he relays);
// its value is getting the SAS to both people so they compare it by voice.
//
// Codecs: G.711 µ-law (IAX2 format 0x4) and A-law (0x8) only, 8 kHz,
// in frames of any length (20 ms = 160 samples is usual). Compressed
// codecs (GSM, iLBC, G.729, Opus, ...) are not supported: the frames
// would have to be encoded by a codec iaxcrypt does not carry.
package sasaudio
