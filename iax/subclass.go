package iax

// IAXSubclass is the subclass of a full frame of type FrameIAX: the IAX
// protocol command (RFC 5456 section 8.4, Asterisk's iax_frame_subclass).
type IAXSubclass uint8

// IAX commands. Values 0x1f (PAGE) and 0x26-0x28 come from Asterisk.
const (
	IAXNew       IAXSubclass = 0x01
	IAXPing      IAXSubclass = 0x02
	IAXPong      IAXSubclass = 0x03
	IAXAck       IAXSubclass = 0x04
	IAXHangup    IAXSubclass = 0x05
	IAXReject    IAXSubclass = 0x06
	IAXAccept    IAXSubclass = 0x07
	IAXAuthReq   IAXSubclass = 0x08
	IAXAuthRep   IAXSubclass = 0x09
	IAXInval     IAXSubclass = 0x0a
	IAXLagRq     IAXSubclass = 0x0b
	IAXLagRp     IAXSubclass = 0x0c
	IAXRegReq    IAXSubclass = 0x0d
	IAXRegAuth   IAXSubclass = 0x0e
	IAXRegAck    IAXSubclass = 0x0f
	IAXRegRej    IAXSubclass = 0x10
	IAXRegRel    IAXSubclass = 0x11
	IAXVNAK      IAXSubclass = 0x12
	IAXDPReq     IAXSubclass = 0x13
	IAXDPRep     IAXSubclass = 0x14
	IAXDial      IAXSubclass = 0x15
	IAXTxReq     IAXSubclass = 0x16
	IAXTxCnt     IAXSubclass = 0x17
	IAXTxAcc     IAXSubclass = 0x18
	IAXTxReady   IAXSubclass = 0x19
	IAXTxRel     IAXSubclass = 0x1a
	IAXTxRej     IAXSubclass = 0x1b
	IAXQuelch    IAXSubclass = 0x1c
	IAXUnquelch  IAXSubclass = 0x1d
	IAXPoke      IAXSubclass = 0x1e
	IAXPage      IAXSubclass = 0x1f
	IAXMWI       IAXSubclass = 0x20
	IAXUnsupport IAXSubclass = 0x21
	IAXTransfer  IAXSubclass = 0x22
	IAXProvision IAXSubclass = 0x23
	IAXFwDownl   IAXSubclass = 0x24
	IAXFwData    IAXSubclass = 0x25
	IAXTxMedia   IAXSubclass = 0x26
	IAXRtKey     IAXSubclass = 0x27
	IAXCallToken IAXSubclass = 0x28
)

var iaxSubclassNames = [...]string{
	IAXNew:       "NEW",
	IAXPing:      "PING",
	IAXPong:      "PONG",
	IAXAck:       "ACK",
	IAXHangup:    "HANGUP",
	IAXReject:    "REJECT",
	IAXAccept:    "ACCEPT",
	IAXAuthReq:   "AUTHREQ",
	IAXAuthRep:   "AUTHREP",
	IAXInval:     "INVAL",
	IAXLagRq:     "LAGRQ",
	IAXLagRp:     "LAGRP",
	IAXRegReq:    "REGREQ",
	IAXRegAuth:   "REGAUTH",
	IAXRegAck:    "REGACK",
	IAXRegRej:    "REGREJ",
	IAXRegRel:    "REGREL",
	IAXVNAK:      "VNAK",
	IAXDPReq:     "DPREQ",
	IAXDPRep:     "DPREP",
	IAXDial:      "DIAL",
	IAXTxReq:     "TXREQ",
	IAXTxCnt:     "TXCNT",
	IAXTxAcc:     "TXACC",
	IAXTxReady:   "TXREADY",
	IAXTxRel:     "TXREL",
	IAXTxRej:     "TXREJ",
	IAXQuelch:    "QUELCH",
	IAXUnquelch:  "UNQUELCH",
	IAXPoke:      "POKE",
	IAXPage:      "PAGE",
	IAXMWI:       "MWI",
	IAXUnsupport: "UNSUPPORT",
	IAXTransfer:  "TRANSFER",
	IAXProvision: "PROVISION",
	IAXFwDownl:   "FWDOWNL",
	IAXFwData:    "FWDATA",
	IAXTxMedia:   "TXMEDIA",
	IAXRtKey:     "RTKEY",
	IAXCallToken: "CALLTOKEN",
}

// String returns the command's name as RFC 5456 spells it, or
// IAXSubclass(n) for an unknown one.
func (s IAXSubclass) String() string {
	return lookupName(iaxSubclassNames[:], uint8(s), "IAXSubclass")
}

// ControlSubclass is the subclass of a full frame of type FrameControl
// (RFC 5456 section 8.3, Asterisk's ast_control_frame_type, whose values
// Asterisk sends on the wire unchanged).
type ControlSubclass uint8

// Control subclasses. 0x01-0x11 are RFC 5456's; the rest are Asterisk's.
const (
	ControlHangup        ControlSubclass = 0x01
	ControlRing          ControlSubclass = 0x02
	ControlRinging       ControlSubclass = 0x03
	ControlAnswer        ControlSubclass = 0x04
	ControlBusy          ControlSubclass = 0x05
	ControlTakeOffHook   ControlSubclass = 0x06
	ControlOffHook       ControlSubclass = 0x07
	ControlCongestion    ControlSubclass = 0x08
	ControlFlash         ControlSubclass = 0x09
	ControlWink          ControlSubclass = 0x0a
	ControlOption        ControlSubclass = 0x0b
	ControlKey           ControlSubclass = 0x0c
	ControlUnkey         ControlSubclass = 0x0d
	ControlProgress      ControlSubclass = 0x0e
	ControlProceeding    ControlSubclass = 0x0f
	ControlHold          ControlSubclass = 0x10
	ControlUnhold        ControlSubclass = 0x11
	ControlVidUpdate     ControlSubclass = 0x12
	ControlT38           ControlSubclass = 0x13 // deprecated by Asterisk
	ControlSrcUpdate     ControlSubclass = 0x14
	ControlTransfer      ControlSubclass = 0x15
	ControlConnectedLine ControlSubclass = 0x16
	ControlRedirecting   ControlSubclass = 0x17
	ControlT38Parameters ControlSubclass = 0x18
	ControlCC            ControlSubclass = 0x19
	ControlSrcChange     ControlSubclass = 0x1a
	ControlReadAction    ControlSubclass = 0x1b
	ControlAOC           ControlSubclass = 0x1c
	ControlEndOfQ        ControlSubclass = 0x1d
	ControlIncomplete    ControlSubclass = 0x1e
	ControlMCID          ControlSubclass = 0x1f
	ControlUpdateRTPPeer ControlSubclass = 0x20
)

var controlSubclassNames = [...]string{
	ControlHangup:        "HANGUP",
	ControlRing:          "RING",
	ControlRinging:       "RINGING",
	ControlAnswer:        "ANSWER",
	ControlBusy:          "BUSY",
	ControlTakeOffHook:   "TAKEOFFHOOK",
	ControlOffHook:       "OFFHOOK",
	ControlCongestion:    "CONGESTION",
	ControlFlash:         "FLASH",
	ControlWink:          "WINK",
	ControlOption:        "OPTION",
	ControlKey:           "KEY",
	ControlUnkey:         "UNKEY",
	ControlProgress:      "PROGRESS",
	ControlProceeding:    "PROCEEDING",
	ControlHold:          "HOLD",
	ControlUnhold:        "UNHOLD",
	ControlVidUpdate:     "VIDUPDATE",
	ControlT38:           "T38",
	ControlSrcUpdate:     "SRCUPDATE",
	ControlTransfer:      "TRANSFER",
	ControlConnectedLine: "CONNECTED_LINE",
	ControlRedirecting:   "REDIRECTING",
	ControlT38Parameters: "T38_PARAMETERS",
	ControlCC:            "CC",
	ControlSrcChange:     "SRCCHANGE",
	ControlReadAction:    "READ_ACTION",
	ControlAOC:           "AOC",
	ControlEndOfQ:        "END_OF_Q",
	ControlIncomplete:    "INCOMPLETE",
	ControlMCID:          "MCID",
	ControlUpdateRTPPeer: "UPDATE_RTP_PEER",
}

// String returns the control subclass's name, or ControlSubclass(n) for an
// unknown one.
func (s ControlSubclass) String() string {
	return lookupName(controlSubclassNames[:], uint8(s), "ControlSubclass")
}
