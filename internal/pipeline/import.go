package pipeline

import (
	"encoding/json"
	"fmt"

	"github.com/mrtgo/mrtgo/rrd"
)

// PutInterfaces stores the facts of series created outside a poll (mrtgo import), so that
// the pages show speed and names before the first poll replaces them. Series whose facts
// are already stored are left alone.
func PutInterfaces(db *rrd.DB, infos map[string]InterfaceInfo) error {
	meta := make(map[string][]byte, len(infos))
	for series, info := range infos {
		if b, err := db.Meta(ifaceKey(series)); err == nil && b != nil {
			continue
		}
		b, err := json.Marshal(info)
		if err != nil {
			return fmt.Errorf("encode facts of %s: %w", series, err)
		}
		meta[ifaceKey(series)] = b
	}
	if len(meta) == 0 {
		return nil
	}
	if err := db.PutMeta(meta); err != nil {
		return fmt.Errorf("store interface facts: %w", err)
	}
	return nil
}
