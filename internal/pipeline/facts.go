package pipeline

import (
	"encoding/json"
	"math"
	"strconv"

	"github.com/mrtgo/mrtgo/internal/series"
)

// appendInfo appends info encoded as json.Marshal encodes it, the bytes the store
// keeps as an interface's facts. A cron run encodes the facts of every interface to
// compare them with what the last run stored; through reflection that was about a
// tenth of its recording. Facts as the poller gives them (names of printable ASCII,
// whole speeds, not gone) are written here; anything else is left to json.Marshal.
func appendInfo(b []byte, info series.Info) []byte {
	if !info.Gone.IsZero() || !plainJSON(info.Descr) || !plainJSON(info.Alias) ||
		info.Speed < 0 || info.Speed >= 1e21 || info.Speed != math.Trunc(info.Speed) {
		j, _ := json.Marshal(info)
		return append(b, j...)
	}
	b = append(b, `{"index":`...)
	b = strconv.AppendInt(b, int64(info.Index), 10)
	if info.Descr != "" {
		b = append(b, `,"descr":"`...)
		b = append(b, info.Descr...)
		b = append(b, '"')
	}
	if info.Alias != "" {
		b = append(b, `,"alias":"`...)
		b = append(b, info.Alias...)
		b = append(b, '"')
	}
	b = append(b, `,"speed":`...)
	b = strconv.AppendFloat(b, info.Speed, 'f', -1, 64) // encoding/json's format below 1e21
	b = append(b, `,"bits":`...)
	b = strconv.AppendInt(b, int64(info.Bits), 10)
	if info.Admin != 0 {
		b = append(b, `,"admin":`...)
		b = strconv.AppendInt(b, int64(info.Admin), 10)
	}
	if info.Oper != 0 {
		b = append(b, `,"oper":`...)
		b = strconv.AppendInt(b, int64(info.Oper), 10)
	}
	return append(b, '}')
}

// plainJSON reports whether encoding/json writes s as it is between quotes: printable
// ASCII without the characters it escapes (quote, backslash, and <, > and & for HTML).
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}
