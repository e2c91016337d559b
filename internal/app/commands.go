package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"minzheng/internal/module"
)

// findCommand finds the line command that args start with (its one or two
// words), and how many words its name took.
func findCommand(mods []module.Module, args []string) (module.Command, int, bool) {
	for _, m := range mods {
		for _, c := range m.Commands {
			words := strings.Fields(c.Name)
			if len(args) >= len(words) && slices.Equal(args[:len(words)], words) {
				return c, len(words), true
			}
		}
	}
	return module.Command{}, 0, false
}

// commandGroup lists the line commands whose first word is first ("run",
// "import"), one a line; "" when there are none.
func commandGroup(mods []module.Module, first string) string {
	var lines []string
	for _, m := range mods {
		for _, c := range m.Commands {
			if strings.Fields(c.Name)[0] == first {
				lines = append(lines, "minzheng "+c.Summary)
			}
		}
	}
	return strings.Join(lines, "\n")
}

// usageText is the help: the app's commands, then every line's.
func usageText() string {
	var b strings.Builder
	for _, m := range Declared() {
		for _, c := range m.Commands {
			fmt.Fprintf(&b, "  %s\n", c.Summary)
		}
	}
	return fmt.Sprintf(usageFormat, strings.TrimRight(b.String(), "\n"))
}

// runCommand runs a line's command: its flags are parsed on the declared
// module (so a bad flag fails before anything is opened), then the app is
// opened and the action of the module built from its services runs with
// the same arguments.
func runCommand(ctx context.Context, c module.Command, args []string, stdout, stderr io.Writer) error {
	fs, common := newFlags(c.Name, stderr)
	c.Flags(fs)
	if err := parseInterspersed(fs, args); err != nil {
		return err
	}
	a, err := common.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	real, _, ok := findCommand(a.Modules, strings.Fields(c.Name))
	if !ok {
		return fmt.Errorf("command %q is declared but not built", c.Name)
	}
	fs, _ = newFlags(c.Name, stderr)
	run := real.Flags(fs)
	if err := parseInterspersed(fs, args); err != nil {
		return err
	}
	return run(ctx, stdout, stderr)
}

// parseInterspersed parses flags that may come before or after the
// arguments (import feed --type death FILE --data DIR); fs.Args() then
// holds the arguments alone.
func parseInterspersed(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return fs.Parse(append([]string{"--"}, positional...))
}
