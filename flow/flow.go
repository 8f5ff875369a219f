package flow

// Flow is a record placed on the network mrtgo knows: the device whose exporter sent it
// and its interfaces by the names the poller resolved. It is what the flow store keeps,
// what queries filter and group, and what the pages show.
type Flow struct {
	Record
	// Device is the configured name of the device whose exporter sent the record;
	// empty when no device claims the exporter.
	Device string
	// In and Out name the input and output interfaces as the poller names them,
	// "ifIndex N" for an interface the poller does not poll, empty when the record
	// carries no ifIndex for that side.
	In, Out string
}
