//go:build tools

// Package tools pins what the toolchain builds from Istio: its control plane (pilot-discovery),
// istioctl, the workload agent (pilot-agent) and Istio's echo test server and client, which the
// end-to-end suite runs as proxyless gRPC workloads. The charts are read from the same module version.
package tools

import (
	_ "istio.io/istio/istioctl/cmd/istioctl"
	_ "istio.io/istio/pilot/cmd/pilot-agent"
	_ "istio.io/istio/pilot/cmd/pilot-discovery"
	_ "istio.io/istio/pkg/test/echo/cmd/client"
	_ "istio.io/istio/pkg/test/echo/cmd/server"
)
