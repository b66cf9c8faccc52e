package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"text/template"
)

// tablePrefix starts a --format template whose output is aligned in
// columns under a header line.
const tablePrefix = "table "

var templateFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	"upper": strings.ToUpper,
	"lower": strings.ToLower,
}

// parseFormat parses a --format template. table reports a "table " prefix,
// which is cut off.
func parseFormat(name, format string) (tmpl *template.Template, table bool, err error) {
	if strings.HasPrefix(format, tablePrefix) {
		table = true
		format = strings.TrimPrefix(format, tablePrefix)
	}
	// Let users write \t for a column break on the command line.
	format = strings.ReplaceAll(format, `\t`, "\t")
	tmpl, err = template.New(name).Funcs(templateFuncs).Parse(format)
	if err != nil {
		return nil, false, usagef("bad --format: %w", err)
	}
	return tmpl, table, nil
}

// execFormat runs tmpl on v, wrapping errors for the user.
func execFormat(tmpl *template.Template, w io.Writer, v any) error {
	if err := tmpl.Execute(w, v); err != nil {
		return usagef("bad --format: %w", err)
	}
	return nil
}

// printRows prints rows with format (a Go template; "table " in front
// aligns the columns under header), one row a line. name names the
// command in errors.
func printRows[T any](out io.Writer, name, format string, header T, rows []T) error {
	tmpl, table, err := parseFormat(name, format)
	if err != nil {
		return err
	}
	w := out
	var tw *tabwriter.Writer
	if table {
		// docker's table writer: columns at least 10 wide, 3 apart.
		tw = tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)
		w = tw
		rows = append([]T{header}, rows...)
	}
	for _, r := range rows {
		if err := execFormat(tmpl, w, r); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	if tw != nil {
		return tw.Flush()
	}
	return nil
}
