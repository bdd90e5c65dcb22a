package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestSubcommandHelp runs --help for every subcommand: each has a
// description, an example command a reader can paste (a line
// "$ egress-audit ..."), its exit codes, and mentions --fail-on only when
// it has that flag.
func TestSubcommandHelp(t *testing.T) {
	var out bytes.Buffer
	root := newRootCmd(&env{stdout: &out, stderr: &out, getenv: func(string) string { return "" }})
	cmds := root.Commands()
	if len(cmds) < 8 {
		t.Fatalf("root has %d subcommands, want at least 8", len(cmds))
	}
	for _, c := range cmds {
		name := c.Name()
		t.Run(name, func(t *testing.T) {
			r := runWith(t, nil, "", name, "--help")
			if r.code != exitOK {
				t.Fatalf("%s --help: exit %d, stderr %s", name, r.code, r.stderr)
			}
			if c.Long == "" {
				t.Errorf("%s --help: no description (Long is empty)", name)
			}
			example := false
			for _, line := range strings.Split(r.stdout, "\n") {
				cmdLine, ok := strings.CutPrefix(strings.TrimSpace(line), "$ ")
				example = example || ok && strings.HasPrefix(cmdLine, "egress-audit ")
			}
			if !example {
				t.Errorf("%s --help: no example line starting with \"egress-audit \":\n%s", name, r.stdout)
			}
			if !strings.Contains(r.stdout, "Exit codes:\n  0  ") {
				t.Errorf("%s --help: no exit codes:\n%s", name, r.stdout)
			}
			if c.Flags().Lookup("fail-on") == nil && strings.Contains(r.stdout, "--fail-on") {
				t.Errorf("%s --help names --fail-on, a flag it does not have:\n%s", name, r.stdout)
			}
		})
	}
}
