// Package module is the contract between a business line and the
// application: what a line declares (its routes, navigation entries, page
// templates, migrations, scheduled jobs, event consumers and its part of the
// OpenAPI document) so that internal/app can wire an explicit list of lines
// without knowing what is inside them. A line builds its Module in its own
// module.go from its services; adding a line adds a folder and one entry in
// app's list.
package module

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"time"

	"minzheng/internal/auth"
	"minzheng/internal/errs"
	"minzheng/internal/events"
	"minzheng/internal/httpx"
	"minzheng/internal/web"
)

// Module is one business line as the application sees it. Every field but
// Name may be empty.
type Module struct {
	// Name is the line's package name (registry, assistance, …): the owner
	// of its routes in httpx.Router and the prefix of its job names.
	Name string
	// Routes registers the line's pages and API routes; render is built
	// from every line's templates, so a page may use only its own.
	Routes func(r *httpx.Router, render *web.Renderer)
	// Nav lists the line's entries in the top navigation.
	Nav []web.NavEntry
	// Templates holds the line's page templates (*.html at its root), each
	// rendered inside the shared layout; page names are unique across lines.
	Templates fs.FS
	// Migrations holds the line's schema changes as sqlite/NNNN_name.sql and
	// postgres/NNNN_name.sql; numbers are unique across all lines and the
	// platform, and applied in number order (db.Migrate).
	Migrations fs.FS
	// Jobs are the line's scheduled jobs, run by serve under a lease.
	Jobs []Job
	// Consumers handle events of other lines (delivered by the outbox).
	Consumers []Consumer
	// Permissions grants the line's own permissions to roles; the app
	// registers them at start (auth.Register).
	Permissions auth.Grants
	// Commands are the line's command-line commands.
	Commands []Command
	// OpenAPI is the line's part of the API document: the paths of its
	// /api/v1 routes, the tags they use and the components it owns (merged
	// by internal/apidoc into the document app serves).
	OpenAPI []byte
}

// Job is a scheduled job: daily at a time of day, or monthly on a day of the
// month, in Shanghai time, under a lease so that of several processes
// sharing the database one runs it. serve takes a flag for each (Flag, with
// Default), "off" or 0 to disable.
type Job struct {
	Name    string // the lease, e.g. "monitor-sweep"
	Flag    string // serve's flag, e.g. "monitor-at"
	Default string // "HH:MM" (daily) or a day 1–28 (monthly)
	Usage   string // the flag's help, in Chinese
	// Monthly makes Default/the flag a day of the month (1–28, 0 for off),
	// run at At (HH:MM).
	Monthly bool
	At      string
	TTL     time.Duration // how long the lease holds
	Run     func(ctx context.Context, on time.Time) error
}

// Schedule parses the flag's value: the hour and minute of a daily run, and
// the day of the month of a monthly one. off reports a disabled job.
func (j Job) Schedule(value string) (day, hour, minute int, off bool, err error) {
	at := value
	if j.Monthly {
		if _, e := fmt.Sscanf(value, "%d", &day); e != nil || day < 0 || day > 28 {
			return 0, 0, 0, false, fmt.Errorf("日期“%s”应为 1–28，或 0（不运行）", value)
		}
		if day == 0 {
			return 0, 0, 0, true, nil
		}
		at = j.At
	} else if value == "off" {
		return 0, 0, 0, true, nil
	}
	if _, e := fmt.Sscanf(at, "%d:%d", &hour, &minute); e != nil || hour < 0 || hour > 23 || minute < 0 || minute > 59 {
		return 0, 0, 0, false, fmt.Errorf("时间“%s”应为 HH:MM，或 off", at)
	}
	return day, hour, minute, false, nil
}

// Consumer is a named handler of event kinds; the outbox remembers how far
// each name has read.
type Consumer struct {
	Name    string
	Kinds   []string
	Handler events.Handler
}

// Sub returns the folder dir of an embedded FS (which exists, so an error
// is a programming mistake and panics at start).
func Sub(fsys fs.FS, dir string) fs.FS {
	f, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(fmt.Sprintf("module: %s: %v", dir, err))
	}
	return f
}

// Nav returns the navigation of a caller from the entries of every module,
// in the entries' order.
func Nav(mods []Module, p auth.Principal) []web.NavItem {
	var entries []web.NavEntry
	for _, m := range mods {
		entries = append(entries, m.Nav...)
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].Order < entries[j].Order })
	var out []web.NavItem
	for _, e := range entries {
		if e.Show == nil || e.Show(p) {
			href := e.Href
			if e.HrefFor != nil {
				href = e.HrefFor(p)
			}
			out = append(out, web.NavItem{Href: href, Label: e.Label})
		}
	}
	return out
}

// Command is a command-line command of a line: `minzheng <Name> [flags]
// [arguments]`. Flags declares the command's flags on fs and returns the
// action to run with them. The application calls Flags twice: on the
// declared module (app.Declared, without services) to parse the common
// flags (--data, --db, --policy-dir) and check the command's, then, with the
// app open, on the module built from its services, whose action it runs.
type Command struct {
	Name    string // "run recheck", "import feed"
	Summary string // the help line, in Chinese, with the flags it takes
	Flags   func(fs *flag.FlagSet) Action
}

// Action runs a command once the app is open. The command's result goes to
// stdout (scripts read it), progress and problems to stderr.
type Action func(ctx context.Context, stdout, stderr io.Writer) error

// ParseDay reads a YYYY-MM-DD flag value, naming the flag when it is wrong.
func ParseDay(flag, v string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, errs.Field(flag, "日期“%s”应为 YYYY-MM-DD", v)
	}
	return t, nil
}

// PrintLine prints v as one line of JSON, for scripts that read a batch
// command's result.
func PrintLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

// PrintJSON writes v as indented JSON with Chinese left readable.
func PrintJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
