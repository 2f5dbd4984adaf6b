// Command pulumi-resource-random serves the Terraform "random" provider to
// the Pulumi engine through the Pulumi Terraform bridge. It is used by this
// project's tests only.
//
// The Go module of the Pulumi provider (with its generated schema and
// mapping) cannot be had from the Go module proxy reachable here, so this
// small main maps the upstream Terraform provider itself with the bridge's
// standard naming rules (snake_case fields -> camelCase), keeping the
// "random" prefix in type names (random_password ->
// random:index/randomPassword:RandomPassword) as the @pulumi/random npm SDK
// does. GetSchema answers a minimal schema: the engine does not need the
// full one to preview, update or destroy.
//
// This module's path sits under the upstream module's path so that it may
// import the provider from the upstream module's internal/ folder.
package main

import (
	"context"
	"encoding/json"

	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"

	"github.com/terraform-providers/terraform-provider-random/internal/provider"
)

// version is stamped at build time with -ldflags "-X main.version=X.Y.Z".
var version = "0.0.0-dev"

func main() {
	ctx := context.Background()
	info := tfbridge.ProviderInfo{
		P:            pfbridge.ShimProvider(provider.New()),
		Name:         "random",
		Version:      version,
		Publisher:    "Pulumi",
		License:      "Apache-2.0",
		MetadataInfo: tfbridge.NewProviderMetadata([]byte("{}")),
	}
	// The npm SDK keeps the "random" prefix in its names: random_pet is
	// random:index/randomPet:RandomPet.
	standard := tokens.MakeStandard("random")
	info.MustComputeTokens(tokens.SingleModule("random_", "index",
		func(module, name string) (string, error) { return standard(module, "Random"+name) }))

	schema, err := json.Marshal(map[string]string{"name": "random", "version": version})
	if err != nil {
		panic(err)
	}
	pfbridge.Main(ctx, "random", info, pfbridge.ProviderMetadata{PackageSchema: schema})
}
