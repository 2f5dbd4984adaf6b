// Command pulumi-resource-tls serves the Terraform "tls" provider to the
// Pulumi engine through the Pulumi Terraform bridge. It is used by this
// project's tests only.
//
// The Go module of the Pulumi provider (with its generated schema and
// mapping) cannot be had from the Go module proxy reachable here, so this
// small main maps the upstream Terraform provider itself with the bridge's
// standard naming rules (tls_private_key -> tls:index/privateKey:PrivateKey,
// snake_case fields -> camelCase), plus the single-object blocks that the
// @pulumi/tls npm SDK types as objects rather than lists. GetSchema answers
// a minimal schema: the engine does not need the full one to preview,
// update or destroy.
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

	"github.com/hashicorp/terraform-provider-tls/internal/provider"
)

// version is stamped at build time with -ldflags "-X main.version=X.Y.Z".
var version = "0.0.0-dev"

func main() {
	ctx := context.Background()
	info := tfbridge.ProviderInfo{
		P:            pfbridge.ShimProvider(provider.New()),
		Name:         "tls",
		Version:      version,
		Publisher:    "Pulumi",
		License:      "Apache-2.0",
		MetadataInfo: tfbridge.NewProviderMetadata([]byte("{}")),
		Config: map[string]*tfbridge.SchemaInfo{
			"proxy": {MaxItemsOne: tfbridge.True()},
		},
	}
	info.MustComputeTokens(tokens.SingleModule("tls_", "index", tokens.MakeStandard("tls")))

	// The npm SDK types these blocks as a single object (SelfSignedCertSubject, ...).
	for _, r := range []string{"tls_self_signed_cert", "tls_cert_request"} {
		res, ok := info.Resources[r]
		if !ok {
			continue
		}
		if res.Fields == nil {
			res.Fields = map[string]*tfbridge.SchemaInfo{}
		}
		res.Fields["subject"] = &tfbridge.SchemaInfo{MaxItemsOne: tfbridge.True()}
	}

	schema, err := json.Marshal(map[string]string{"name": "tls", "version": version})
	if err != nil {
		panic(err)
	}
	pfbridge.Main(ctx, "tls", info, pfbridge.ProviderMetadata{PackageSchema: schema})
}
