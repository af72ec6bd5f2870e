package iax

// IEID is the id byte of an information element (RFC 5456 section 8.6,
// Asterisk's iax2.h for 54-57).
type IEID uint8

// Information element ids.
const (
	IECalledNumber    IEID = 1
	IECallingNumber   IEID = 2
	IECallingANI      IEID = 3
	IECallingName     IEID = 4
	IECalledContext   IEID = 5
	IEUsername        IEID = 6
	IEPassword        IEID = 7
	IECapability      IEID = 8
	IEFormat          IEID = 9
	IELanguage        IEID = 10
	IEVersion         IEID = 11
	IEADSICPE         IEID = 12
	IEDNID            IEID = 13
	IEAuthMethods     IEID = 14
	IEChallenge       IEID = 15
	IEMD5Result       IEID = 16
	IERSAResult       IEID = 17
	IEApparentAddr    IEID = 18
	IERefresh         IEID = 19
	IEDPStatus        IEID = 20
	IECallNo          IEID = 21
	IECause           IEID = 22
	IEIAXUnknown      IEID = 23
	IEMsgCount        IEID = 24
	IEAutoAnswer      IEID = 25
	IEMusicOnHold     IEID = 26
	IETransferID      IEID = 27
	IERDNIS           IEID = 28
	IEProvisioning    IEID = 29
	IEAESProvisioning IEID = 30
	IEDateTime        IEID = 31
	IEDeviceType      IEID = 32
	IEServiceIdent    IEID = 33
	IEFirmwareVer     IEID = 34
	IEFwBlockDesc     IEID = 35
	IEFwBlockData     IEID = 36
	IEProvVer         IEID = 37
	IECallingPres     IEID = 38
	IECallingTON      IEID = 39
	IECallingTNS      IEID = 40
	IESamplingRate    IEID = 41
	IECauseCode       IEID = 42
	IEEncryption      IEID = 43
	IEEncKey          IEID = 44
	IECodecPrefs      IEID = 45
	IERRJitter        IEID = 46
	IERRLoss          IEID = 47
	IERRPkts          IEID = 48
	IERRDelay         IEID = 49
	IERRDropped       IEID = 50
	IERROOO           IEID = 51
	IEVariable        IEID = 52
	IEOSPToken        IEID = 53
	IECallToken       IEID = 54
	IECapability2     IEID = 55
	IEFormat2         IEID = 56
	IECallingANI2     IEID = 57
)

var ieNames = [...]string{
	IECalledNumber:    "CALLED NUMBER",
	IECallingNumber:   "CALLING NUMBER",
	IECallingANI:      "CALLING ANI",
	IECallingName:     "CALLING NAME",
	IECalledContext:   "CALLED CONTEXT",
	IEUsername:        "USERNAME",
	IEPassword:        "PASSWORD",
	IECapability:      "CAPABILITY",
	IEFormat:          "FORMAT",
	IELanguage:        "LANGUAGE",
	IEVersion:         "VERSION",
	IEADSICPE:         "ADSICPE",
	IEDNID:            "DNID",
	IEAuthMethods:     "AUTHMETHODS",
	IEChallenge:       "CHALLENGE",
	IEMD5Result:       "MD5 RESULT",
	IERSAResult:       "RSA RESULT",
	IEApparentAddr:    "APPARENT ADDR",
	IERefresh:         "REFRESH",
	IEDPStatus:        "DPSTATUS",
	IECallNo:          "CALLNO",
	IECause:           "CAUSE",
	IEIAXUnknown:      "IAX UNKNOWN",
	IEMsgCount:        "MSGCOUNT",
	IEAutoAnswer:      "AUTOANSWER",
	IEMusicOnHold:     "MUSICONHOLD",
	IETransferID:      "TRANSFERID",
	IERDNIS:           "RDNIS",
	IEProvisioning:    "PROVISIONING",
	IEAESProvisioning: "AESPROVISIONING",
	IEDateTime:        "DATETIME",
	IEDeviceType:      "DEVICETYPE",
	IEServiceIdent:    "SERVICEIDENT",
	IEFirmwareVer:     "FIRMWAREVER",
	IEFwBlockDesc:     "FWBLOCKDESC",
	IEFwBlockData:     "FWBLOCKDATA",
	IEProvVer:         "PROVVER",
	IECallingPres:     "CALLINGPRES",
	IECallingTON:      "CALLINGTON",
	IECallingTNS:      "CALLINGTNS",
	IESamplingRate:    "SAMPLINGRATE",
	IECauseCode:       "CAUSECODE",
	IEEncryption:      "ENCRYPTION",
	IEEncKey:          "ENCKEY",
	IECodecPrefs:      "CODEC PREFS",
	IERRJitter:        "RR JITTER",
	IERRLoss:          "RR LOSS",
	IERRPkts:          "RR PKTS",
	IERRDelay:         "RR DELAY",
	IERRDropped:       "RR DROPPED",
	IERROOO:           "RR OOO",
	IEVariable:        "VARIABLE",
	IEOSPToken:        "OSPTOKEN",
	IECallToken:       "CALLTOKEN",
	IECapability2:     "CAPABILITY2",
	IEFormat2:         "FORMAT2",
	IECallingANI2:     "CALLINGANI2",
}

// String returns the IE's name as RFC 5456 spells it, or IE(n) for an id no
// stack defines.
func (id IEID) String() string {
	return lookupName(ieNames[:], uint8(id), "IE")
}
