//go:build tools

package tools

import (
	_ "github.com/BurntSushi/toml"
	_ "github.com/gosnmp/gosnmp"
	_ "go.etcd.io/bbolt"
	_ "golang.org/x/sync/errgroup"
	_ "gonum.org/v1/plot"
	_ "gonum.org/v1/plot/vg/vgimg"
)
