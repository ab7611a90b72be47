//go:build tools

// Package tools pins etcd's main package so that `go build` can find it in this module.
package tools

import _ "go.etcd.io/etcd/server/v3"
