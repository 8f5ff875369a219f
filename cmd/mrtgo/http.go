package main

import (
	"net/http"

	"github.com/mrtgo/mrtgo/web"
)

// siteMux routes /metrics to metrics and everything else to the site in dir.
func siteMux(dir string, metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", metrics)
	mux.Handle("/", web.Handler(dir))
	return mux
}
