// Command pulumi-language-nodejs is a small Node.js language host for the
// Pulumi engine, used by this project's tests only.
//
// The engine talks to a language host over gRPC (the LanguageRuntime service
// of the Pulumi SDK). This host implements what `pulumi preview`, `up`,
// `destroy` and `refresh` need for a Node.js program: it reports the resource
// plugins that the program's node_modules ask for and runs the program with
// the run harness that ships in the @pulumi/pulumi npm package. Everything
// else answers "unimplemented", which the engine treats as "not supported".
//
// Usage (as the engine starts it): pulumi-language-nodejs [flags] ENGINE_ADDRESS
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/google/shlex"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// version is stamped at build time with -ldflags "-X main.version=vX.Y.Z".
var version = "v0.0.0-dev"

// exitCodeBail is the exit code with which the run harness says that it has
// already reported the program's error to the engine.
const exitCodeBail = 32

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	mu            sync.Mutex
	engineAddress string
	tracing       string
}

func main() {
	h := &host{}
	// The engine passes glog-style flags (-logtostderr, -v=N, --tracing=URL,
	// -root=DIR, ...) before the engine address. Only tracing is used; every
	// other flag is accepted and ignored so that engine upgrades do not break
	// the host.
	args := os.Args[1:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			if h.engineAddress == "" {
				h.engineAddress = a
			}
			continue
		}
		name := strings.TrimLeft(a, "-")
		value := ""
		if k, v, ok := strings.Cut(name, "="); ok {
			name, value = k, v
		} else if name == "tracing" && i+1 < len(args) {
			i++
			value = args[i]
		}
		if name == "tracing" {
			h.tracing = value
		}
	}

	cancel := make(chan bool)
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: could not start the gRPC server: %v\n", err)
		os.Exit(1)
	}
	// The engine reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
}

func (h *host) Handshake(_ context.Context,
	req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: strings.TrimPrefix(version, "v")}, nil
}

// resourcePackage is what a Pulumi provider SDK writes into its package.json.
type resourcePackage struct {
	Name   string `json:"name"`
	Pulumi struct {
		Resource bool   `json:"resource"`
		Name     string `json:"name"`
		Version  string `json:"version"`
		Server   string `json:"server"`
	} `json:"pulumi"`
	Version string `json:"version"`
}

type plugin struct{ name, version, server string }

// programDir returns the directory of the program, from the request or the
// working directory the engine started us in.
func programDir(info *pulumirpc.ProgramInfo) string {
	if info != nil && info.GetProgramDirectory() != "" {
		return info.GetProgramDirectory()
	}
	wd, _ := os.Getwd()
	return wd
}

// findNodeModules walks up from dir to the nearest node_modules directory.
func findNodeModules(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		nm := filepath.Join(d, "node_modules")
		if st, err := os.Stat(nm); err == nil && st.IsDir() {
			return nm
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// requiredPlugins lists the resource plugins that the packages installed in
// node_modules declare (including nested node_modules).
func requiredPlugins(dir string) ([]plugin, error) {
	nm := findNodeModules(dir)
	if nm == "" {
		return nil, nil
	}
	found := map[string]plugin{}
	var scan func(nodeModules string, depth int) error
	scan = func(nodeModules string, depth int) error {
		if depth > 8 {
			return nil
		}
		entries, err := os.ReadDir(nodeModules)
		if err != nil {
			return nil //nolint:nilerr // a missing or unreadable folder holds no plugins
		}
		var pkgDirs []string
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, ".") {
				continue
			}
			p := filepath.Join(nodeModules, name)
			if strings.HasPrefix(name, "@") {
				scoped, err := os.ReadDir(p)
				if err != nil {
					continue
				}
				for _, s := range scoped {
					pkgDirs = append(pkgDirs, filepath.Join(p, s.Name()))
				}
				continue
			}
			pkgDirs = append(pkgDirs, p)
		}
		for _, pd := range pkgDirs {
			data, err := os.ReadFile(filepath.Join(pd, "package.json"))
			if err != nil {
				continue
			}
			var pkg resourcePackage
			if err := json.Unmarshal(data, &pkg); err != nil {
				continue
			}
			if pkg.Pulumi.Resource {
				name := pkg.Pulumi.Name
				if name == "" {
					name = strings.TrimPrefix(pkg.Name, "@pulumi/")
				}
				ver := pkg.Pulumi.Version
				if ver == "" {
					ver = pkg.Version
				}
				key := name + "@" + ver
				if _, ok := found[key]; !ok {
					found[key] = plugin{name: name, version: ver, server: pkg.Pulumi.Server}
				}
			}
			if err := scan(filepath.Join(pd, "node_modules"), depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := scan(nm, 0); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(found))
	for k := range found {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]plugin, 0, len(keys))
	for _, k := range keys {
		out = append(out, found[k])
	}
	return out, nil
}

func withV(v string) string {
	if v == "" || strings.HasPrefix(v, "v") {
		return v
	}
	return "v" + v
}

func (h *host) GetRequiredPackages(_ context.Context,
	req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	plugins, err := requiredPlugins(programDir(req.GetInfo()))
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.GetRequiredPackagesResponse{}
	for _, p := range plugins {
		resp.Packages = append(resp.Packages, &pulumirpc.PackageDependency{
			Name: p.name, Kind: "resource", Version: withV(p.version), Server: p.server,
		})
	}
	return resp, nil
}

func (h *host) GetRequiredPlugins(_ context.Context,
	req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	plugins, err := requiredPlugins(programDir(req.GetInfo()))
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.GetRequiredPluginsResponse{}
	for _, p := range plugins {
		resp.Plugins = append(resp.Plugins, &pulumirpc.PluginDependency{
			Name: p.name, Kind: "resource", Version: withV(p.version), Server: p.server,
		})
	}
	return resp, nil
}

func (h *host) InstallDependencies(*pulumirpc.InstallDependenciesRequest,
	grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	// The tests install node_modules themselves (npm ci); nothing to do here.
	return nil
}

func (h *host) RuntimeOptionsPrompts(context.Context,
	*pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

func (h *host) GetProgramDependencies(context.Context,
	*pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return &pulumirpc.GetProgramDependenciesResponse{}, nil
}

func (h *host) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, errors.New("could not find node on the $PATH")
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("node --version: %w", err)
	}
	return &pulumirpc.AboutResponse{
		Executable: node,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "v"),
	}, nil
}

func (h *host) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// runtimeOptions are the `runtime.options` of Pulumi.yaml that this host honours.
type runtimeOptions struct {
	typescript bool
	tsconfig   string
	nodeargs   string
}

func parseOptions(opts *structpb.Struct) runtimeOptions {
	ro := runtimeOptions{typescript: true}
	if opts == nil {
		return ro
	}
	m := opts.AsMap()
	switch v := m["typescript"].(type) {
	case bool:
		ro.typescript = v
	case string:
		if b, err := strconv.ParseBool(v); err == nil {
			ro.typescript = b
		}
	}
	if v, ok := m["tsconfig"].(string); ok {
		ro.tsconfig = v
	}
	if v, ok := m["nodeargs"].(string); ok {
		ro.nodeargs = v
	}
	return ro
}

// locateRunHarness resolves @pulumi/pulumi/cmd/run the way Node would from dir.
func locateRunHarness(ctx context.Context, node, dir string) (string, error) {
	if p := os.Getenv("PULUMI_LANGUAGE_NODEJS_RUN_PATH"); p != "" {
		return p, nil
	}
	cmd := exec.CommandContext(ctx, node, "-e",
		"process.stdout.write(require.resolve(process.argv[1]))", "@pulumi/pulumi/cmd/run")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("could not find @pulumi/pulumi/cmd/run from %s "+
			"(is the Pulumi SDK installed? run npm ci): %w", dir, err)
	}
	return string(out), nil
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return &pulumirpc.RunResponse{Error: "could not find node on the $PATH"}, nil
	}
	info := req.GetInfo()
	dir := programDir(info)
	pwd := req.GetPwd()
	if pwd == "" {
		pwd = dir
	}
	runPath, err := locateRunHarness(ctx, node, pwd)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	opts := parseOptions(info.GetOptions())

	args, err := shlex.Split(opts.nodeargs)
	if err != nil {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("bad nodeargs option: %v", err)}, nil
	}
	args = append(args, runPath)
	add := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	h.mu.Lock()
	engine := h.engineAddress
	h.mu.Unlock()
	add("monitor", req.GetMonitorAddress())
	add("engine", engine)
	add("organization", req.GetOrganization())
	add("project", req.GetProject())
	add("stack", req.GetStack())
	add("pwd", pwd)
	if info.GetRootDirectory() != "" {
		add("root-directory", info.GetRootDirectory())
	}
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	add("query-mode", strconv.FormatBool(req.GetQueryMode()))
	add("parallel", strconv.Itoa(int(req.GetParallel())))
	add("tracing", h.tracing)
	program := req.GetProgram()
	if info.GetEntryPoint() != "" {
		program = info.GetEntryPoint()
	}
	if program == "" {
		program = "."
	}
	args = append(args, program)
	args = append(args, req.GetArgs()...)

	config, err := json.Marshal(req.GetConfig())
	if err != nil {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("serialising config: %v", err)}, nil
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secrets, err := json.Marshal(secretKeys)
	if err != nil {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("serialising secret keys: %v", err)}, nil
	}
	env := append(os.Environ(),
		"PULUMI_CONFIG="+string(config),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secrets))
	if opts.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}

	cmd := exec.Command(node, args...) // #nosec G204 -- runs the user's own program
	cmd.Dir = pwd
	cmd.Env = env
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		_ = os.Stdout.Sync()
		_ = os.Stderr.Sync()
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == exitCodeBail {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
			}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Problem executing program (could not run language executor): %v", err)}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}
