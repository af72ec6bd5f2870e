# Independent re-implementation of iaxcrypt protocol 2 (Noise NX handshake,
# commitment and confirmation, SAS, encrypted frame, encrypted trunk frame),
# written from docs/protocol.md, to cross-check crypt/testdata/vectors.json.
# Usage: python3 crypt/testdata/crosscheck.py crypt/testdata/vectors.json
# Needs the `cryptography` package.
import json, hashlib, hmac, sys
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305, AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

H = lambda d: hashlib.blake2s(d).digest()
S = lambda d: hashlib.sha256(d).digest()
def hm(k, d): return hmac.new(k, d, hashlib.blake2s).digest()
def hkdf2(ck, ikm):
    t = hm(ck, ikm); o1 = hm(t, b'\x01'); o2 = hm(t, o1 + b'\x02'); return o1, o2
def hkdf_sha256(ikm, info, n, salt=None):
    return HKDF(algorithm=hashes.SHA256(), length=n, salt=salt, info=info).derive(ikm)
def pub(priv): return X25519PrivateKey.from_private_bytes(priv).public_key().public_bytes_raw()
def dh(priv, p): return X25519PrivateKey.from_private_bytes(priv).exchange(X25519PublicKey.from_public_bytes(p))
u16 = lambda n: n.to_bytes(2, 'big')
class SS:
    def __init__(s, prologue):
        s.h = H(b'Noise_NX_25519_ChaChaPoly_BLAKE2s'); s.ck = s.h; s.k = None; s.n = 0
        s.mh(prologue)
    def mh(s, d): s.h = H(s.h + d)
    def mk(s, ikm): s.ck, s.k = hkdf2(s.ck, ikm); s.n = 0
    def enc(s, pt):
        if s.k is None: s.mh(pt); return pt
        c = ChaCha20Poly1305(s.k).encrypt(b'\0'*4 + s.n.to_bytes(8, 'little'), pt, s.h); s.n += 1; s.mh(c); return c

v = json.load(open(sys.argv[1]))
ids = {'chacha20-poly1305': 1, 'aes-256-gcm': 2}
si, R, ei = (bytes.fromhex(v[k]) for k in ('initiator_static_private', 'initiator_reveal_r', 'initiator_ephemeral_private'))
sr, er = bytes.fromhex(v['responder_static_private']), bytes.fromhex(v['responder_ephemeral_private'])
new_ies, accept_ies = bytes.fromhex(v['new_ies']), bytes.fromhex(v['accept_ies'])
frame = bytes.fromhex(v['frame'])
assert pub(si).hex() == v['initiator_static_public'] and pub(sr).hex() == v['responder_static_public']

def aead(name, key): return (ChaCha20Poly1305 if name == 'chacha20-poly1305' else AESGCM)(key)
def seal_frame(a, snd, rcv, ctr, pt):
    hdr = bytes([0, 0, 0x45, 2]) + u16(snd) + u16(rcv) + ctr.to_bytes(8, 'big')
    return hdr + a.encrypt(b'\0'*4 + hdr[8:], pt, hdr)

callee_aeads = []
for c in v['cases']:
    prologue = b'iaxcrypt/2' + u16(c['caller_call']) + S(b'iaxcrypt/2 NEW IEs' + new_ies)
    assert prologue.hex() == c['prologue'], 'prologue'
    ss = SS(prologue)
    commit = S(b'iaxcrypt/2 commit' + pub(si) + R)
    assert commit.hex() == c['commitment'], 'commitment'
    # message 1: -> e, payload in clear
    m1 = pub(ei); ss.mh(pub(ei))
    m1 += ss.enc(bytes([len(c['offer'])] + [ids[x] for x in c['offer']]) + commit)
    assert (b'\x02\x01' + m1).hex() == c['offer_marker'], 'offer'
    # message 2: <- e, ee, s, es
    m2 = pub(er); ss.mh(pub(er))
    ss.mk(dh(er, pub(ei)))                  # ee
    m2 += ss.enc(pub(sr))                   # s
    ss.mk(dh(sr, pub(ei)))                  # es: responder static, initiator ephemeral
    m2 += ss.enc(bytes([ids[c['cipher']]]) + u16(c['callee_call']) + S(b'iaxcrypt/2 ACCEPT IEs' + accept_ies))
    assert (b'\x02\x02' + m2).hex() == c['answer_marker'], 'answer ' + c['cipher']
    h = ss.h
    assert h.hex() == c['handshake_hash'], 'handshake hash'
    k1, k2 = hkdf2(ss.ck, b'')
    tk = lambda k: hkdf_sha256(k, b'iaxcrypt/2 ' + c['cipher'].encode(), 32)
    assert tk(k1).hex() == c['key_initiator_to_responder'] and tk(k2).hex() == c['key_responder_to_initiator'], 'keys'
    # confirmation: caller static key, R, MAC keyed from DH(s_caller, e_callee) and h
    kc = hkdf_sha256(dh(si, pub(er)), b'iaxcrypt/2 confirm', 32, salt=h)
    blob = pub(si) + R + hmac.new(kc, h + pub(si) + R, hashlib.sha256).digest()
    assert blob.hex() == c['confirmation'], 'confirmation'
    sas = hkdf_sha256(h + pub(si) + R, b'iaxcrypt/2 sas', 4)
    assert sas.hex() == c['sas'], 'sas'
    a1, a2 = aead(c['cipher'], tk(k1)), aead(c['cipher'], tk(k2))
    cr, ce = c['caller_call'], c['callee_call']
    assert seal_frame(a1, cr, ce, 0, b'\x01' + blob + frame).hex() == c['frame_i2r_counter0_confirmation'], 'i2r0'
    assert seal_frame(a2, ce, cr, 0, b'\x00' + frame).hex() == c['frame_r2i_counter0'], 'r2i0'
    assert seal_frame(a2, ce, cr, 1, b'\x02' + frame).hex() == c['frame_r2i_counter1_confirmed'], 'r2i1'
    assert seal_frame(a1, cr, ce, 1, b'\x00' + frame).hex() == c['frame_i2r_counter1'], 'i2r1'
    callee_aeads.append(a2)

for k, t in enumerate(v['trunks']):
    T = t['cmd_data'] & 1
    ctr = 2 + k   # the callee's counters 0 and 1 went into the frames above
    clear = bytes([0, 0, 1, t['cmd_data']]) + t['timestamp'].to_bytes(4, 'big')
    hdr = bytes([0, 0, 0x46, 2, t['cmd_data']]) + t['timestamp'].to_bytes(4, 'big')
    enc = hdr
    for c, a in zip(v['cases'], callee_aeads):
        data = frame[4:]
        if T:
            clear += u16(len(data)) + u16(c['callee_call']) + u16(0x00a0) + data
            pt = b'\x02' + u16(0x00a0) + data
        else:
            clear += u16(c['callee_call']) + u16(len(data)) + data
            pt = b'\x02' + data
        eh = u16(c['callee_call']) + u16(ctr & 0xffff) + u16(len(pt) + 16)
        enc += eh + a.encrypt(b'\0'*4 + ctr.to_bytes(8, 'big'), pt, hdr + u16(c['caller_call']) + eh)
    assert clear.hex() == t['cleartext_trunk'], 'cleartext trunk %d' % k
    assert enc.hex() == t['encrypted_trunk'], 'encrypted trunk %d' % k
print('independent protocol 2 re-implementation matches', len(v['cases']), 'cases and', len(v['trunks']), 'trunk frames')
