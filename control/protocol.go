package control

// Where the daemon listens unless told otherwise, per system; DefaultPath
// is the one of the system the binary is built for. Both are in the
// system's directory for run-time files, emptied at boot: /run on Linux,
// /var/run on macOS (/private/var/run, on the writable data volume;
// /run does not exist there and cannot be created on the sealed system
// volume).
const (
	LinuxDefaultPath  = "/run/iaxcrypt/control.sock"
	DarwinDefaultPath = "/var/run/iaxcrypt/control.sock"
)

// Operations a Request can ask for.
const (
	OpStatus   = "status"
	OpRouteAdd = "route-add"
	OpRouteDel = "route-del"
	OpInfo     = "info"
)

// Info is the response to an info request: how the daemon is set up,
// which "iaxcrypt doctor" checks the system against.
type Info struct {
	TUN       string   `json:"tun"`
	AppPort   uint16   `json:"app_port"`
	Listen    string   `json:"listen"`
	Peers     []string `json:"peers"`
	StateDir  string   `json:"state_dir"`
	Policy    string   `json:"policy"`
	Table     int      `json:"table,omitempty"`     // Linux
	Priority  int      `json:"priority,omitempty"`  // Linux
	FwMark    uint32   `json:"fwmark,omitempty"`    // Linux
	Interface string   `json:"interface,omitempty"` // macOS: the sockets' real interface
	PfAnchor  string   `json:"pf_anchor,omitempty"` // macOS
	Config    string   `json:"config,omitempty"`    // the --config file, if any
}

// Request is one line a client sends.
type Request struct {
	Op   string `json:"op"`
	Peer string `json:"peer,omitempty"`
	// Identity is a fingerprint (peers-verify).
	Identity string `json:"identity,omitempty"`
	// Nonce names a doctor's probe (probe).
	Nonce string `json:"nonce,omitempty"`
}

// Status is the response to a status request.
type Status struct {
	// Identity is this daemon's public key fingerprint.
	Identity string       `json:"identity"`
	Calls    []CallStatus `json:"calls"`
}

// CallStatus describes one call the daemon follows.
type CallStatus struct {
	// Peer is the remote IAX2 address, IP:PORT.
	Peer       string `json:"peer"`
	LocalCall  uint16 `json:"local_call"`
	RemoteCall uint16 `json:"remote_call"`
	// State is negotiating, encrypted, cleartext, failed or ended.
	State string `json:"state"`
	// Cipher, SAS and PeerIdentity are empty unless the call is encrypted.
	Cipher       string `json:"cipher"`
	SAS          string `json:"sas"`
	PeerIdentity string `json:"peer_identity"`
	TxPackets    uint64 `json:"tx_packets"`
	RxPackets    uint64 `json:"rx_packets"`
	Dropped      uint64 `json:"dropped"`
	// Drops counts the dropped packets by reason (only reasons seen).
	Drops map[string]uint64 `json:"drops,omitempty"`
	// Warning flags a call whose course suggests an attack:
	// downgrade_suspected, offer_lost.
	Warning string `json:"warning,omitempty"`
	// Reason says why a call is in clear or failed (empty for encrypted
	// calls): what an operator asks first.
	Reason string `json:"reason,omitempty"`
}

// errorResponse is what a failed request gets.
type errorResponse struct {
	Error string `json:"error"`
}

// okResponse is what a successful route request gets.
type okResponse struct{}
