// Command mrtgo polls interface traffic over SNMP, keeps it in a round-robin store and
// publishes MRTG-style graphs on a static web site. Run "mrtgo help" for the commands.
package main

import (
	_ "github.com/mrtgo/mrtgo/internal/hugeheap" // first: the heap's pages, before it grows

	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
