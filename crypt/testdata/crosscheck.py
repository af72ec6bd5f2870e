# Independent re-implementation of the iaxcrypt handshake, written from
# docs/protocol.md, to cross-check crypt/testdata/vectors.json.
# Usage: python3 crypt/testdata/crosscheck.py crypt/testdata/vectors.json
import json, hashlib, hmac, sys
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305, AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

H = lambda d: hashlib.blake2s(d).digest()
def hm(k, d): return hmac.new(k, d, hashlib.blake2s).digest()
def hkdf2(ck, ikm):
    t = hm(ck, ikm); o1 = hm(t, b'\x01'); o2 = hm(t, o1 + b'\x02'); return o1, o2
def pub(priv): return X25519PrivateKey.from_private_bytes(priv).public_key().public_bytes_raw()
def dh(priv, p): return X25519PrivateKey.from_private_bytes(priv).exchange(X25519PublicKey.from_public_bytes(p))
class SS:
    def __init__(s, prologue):
        s.h = H(b'Noise_IX_25519_ChaChaPoly_BLAKE2s'); s.ck = s.h; s.k = None; s.n = 0
        s.mh(prologue)
    def mh(s, d): s.h = H(s.h + d)
    def mk(s, ikm): s.ck, s.k = hkdf2(s.ck, ikm); s.n = 0
    def enc(s, pt):
        if s.k is None: s.mh(pt); return pt
        c = ChaCha20Poly1305(s.k).encrypt(b'\0'*4 + s.n.to_bytes(8,'little'), pt, s.h); s.n += 1; s.mh(c); return c

v = json.load(open(sys.argv[1]))
ids = {'chacha20-poly1305': 1, 'aes-256-gcm': 2}
si, ei = bytes.fromhex(v['initiator_static_private']), bytes.fromhex(v['initiator_ephemeral_private'])
sr, er = bytes.fromhex(v['responder_static_private']), bytes.fromhex(v['responder_ephemeral_private'])
for c in v['cases']:
    ss = SS(b'iaxcrypt/1' + v['caller_call'].to_bytes(2,'big'))
    m1 = pub(ei); ss.mh(pub(ei)); m1 += ss.enc(pub(si))
    payload = bytes([len(v['offer'])] + [ids[x] for x in v['offer']]); m1 += ss.enc(payload)
    assert (b'\x01\x01' + m1).hex() == v['offer_marker'], 'offer'
    # responder writes msg2: e, ee, se, s, es
    m2 = pub(er); ss.mh(pub(er))
    ss.mk(dh(er, pub(ei)))          # ee
    ss.mk(dh(er, pub(si)))          # se: initiator static, responder ephemeral
    m2 += ss.enc(pub(sr))           # s
    ss.mk(dh(sr, pub(ei)))          # es: initiator ephemeral, responder static
    m2 += ss.enc(bytes([ids[c['cipher']]]) + v['callee_call'].to_bytes(2,'big'))
    assert (b'\x01\x02' + m2).hex() == c['answer_marker'], 'answer ' + c['cipher']
    assert ss.h.hex() == c['handshake_hash']
    k1, k2 = hkdf2(ss.ck, b'')
    tk = lambda k: HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b'iaxcrypt/1 ' + c['cipher'].encode()).derive(k)
    assert tk(k1).hex() == c['key_initiator_to_responder'] and tk(k2).hex() == c['key_responder_to_initiator']
    sas = HKDF(algorithm=hashes.SHA256(), length=4, salt=None, info=b'iaxcrypt/1 sas').derive(ss.h)
    assert sas.hex() == c['sas']
    A = ChaCha20Poly1305 if c['cipher'] == 'chacha20-poly1305' else AESGCM
    frame = bytes.fromhex(v['frame'])
    for key, snd, rcv, want in ((tk(k1), v['caller_call'], v['callee_call'], c['encrypted_frame_initiator_to_responder']),
                                (tk(k2), v['callee_call'], v['caller_call'], c['encrypted_frame_responder_to_initiator'])):
        hdr = bytes([0, 0, 0x45, 1]) + snd.to_bytes(2, 'big') + rcv.to_bytes(2, 'big') + (0).to_bytes(8, 'big')
        assert (hdr + A(key).encrypt(b'\0'*4 + hdr[8:], frame, hdr)).hex() == want, 'frame'
print('independent Noise IX re-implementation matches', len(v['cases']), 'cases')
