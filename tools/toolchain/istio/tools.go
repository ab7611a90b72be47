//go:build tools

// Package tools pins Istio's control plane (pilot-discovery) and istioctl so that `go build` can
// find them in this module; the charts are read from the same module version.
package tools

import (
	_ "istio.io/istio/istioctl/cmd/istioctl"
	_ "istio.io/istio/pilot/cmd/pilot-discovery"
)
