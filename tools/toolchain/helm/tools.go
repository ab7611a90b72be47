//go:build tools

// Pins Helm's main package so that `go build` can find it in this module.
package main

import _ "helm.sh/helm/v3/cmd/helm"
