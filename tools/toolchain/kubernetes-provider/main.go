// Command pulumi-resource-kubernetes serves the Pulumi Kubernetes provider.
//
// The upstream main embeds schema files that are generated at release time and are not in the
// module, so it cannot be built from the module proxy. This main serves the same provider package
// with the schema that the build script copies next to this file (version stamped) before building.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema.json
var schema []byte

func main() {
	// The Terraform mapping is only used by converters (`pulumi convert`), which this project never runs.
	provider.Serve("kubernetes", version.Version, schema, nil)
}
