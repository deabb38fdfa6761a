package deploycheck

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// composeCLI is one way of running Compose: Debian's docker-compose (v1, a
// Python program) or the docker CLI's compose plugin (v2).
type composeCLI struct {
	name string   // for messages
	argv []string // the command before "-f FILE config ..."
}

// availableComposeCLIs returns the Compose commands that run here. Neither
// needs a Docker engine for "config".
func availableComposeCLIs(t *testing.T) []composeCLI {
	t.Helper()
	var out []composeCLI
	if p, err := exec.LookPath("docker-compose"); err == nil {
		out = append(out, composeCLI{name: "docker-compose", argv: []string{p}})
	}
	if p, err := exec.LookPath("docker"); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// "docker compose version" fails when the plugin is missing.
		if err := exec.CommandContext(ctx, p, "compose", "version").Run(); err == nil {
			out = append(out, composeCLI{name: "docker compose", argv: []string{p, "compose"}})
		}
	}
	return out
}

// TestComposeConfigValidates runs Compose's own validator over
// docker-compose.yml. It needs no Docker engine; it is skipped when no Compose
// command is installed (apt-get install docker-compose provides one).
func TestComposeConfigValidates(t *testing.T) {
	clis := availableComposeCLIs(t)
	if len(clis) == 0 {
		t.Skip("neither docker-compose nor the docker compose plugin is installed; " +
			"install one (Debian: apt-get install docker-compose) to validate " + composeFile + " with Compose itself")
	}
	root := repoRoot(t)
	for _, cli := range clis {
		t.Run(strings.ReplaceAll(cli.name, " ", "_"), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			args := append(append([]string{}, cli.argv[1:]...), "-f", composeFile, "config", "-q")
			cmd := exec.CommandContext(ctx, cli.argv[0], args...)
			cmd.Dir = root
			// A fixed project name and no stray COMPOSE_* settings from the
			// caller's shell.
			env := []string{"COMPOSE_PROJECT_NAME=otelaudit"}
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "COMPOSE_") {
					env = append(env, kv)
				}
			}
			cmd.Env = env
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				t.Fatalf("%s -f %s config -q: %v\n%s", cli.name, composeFile, err, out.String())
			}
			// Compose v2 accepts but warns about obsolete or unknown things;
			// such a warning means the file needs attention.
			if s := strings.ToLower(out.String()); strings.Contains(s, "warn") {
				t.Errorf("%s warned:\n%s", cli.name, out.String())
			}
		})
	}
}
