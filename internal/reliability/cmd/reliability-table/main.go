// Command reliability-table renders the rows the reliability tests wrote
// (internal/reliability) as a Markdown table, with the date, the host's
// load and size, to stdout and to the file -o names.
//
//	reliability-table -dir ROWS [-o RELIABILITY.md] [-machine "in-process agent"]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/berthvm/berth/internal/reliability"
)

func main() {
	dir := flag.String("dir", "", "folder of the rows the tests wrote")
	out := flag.String("o", "", "file to write the table to (besides stdout)")
	flag.Parse()
	rows, err := reliability.Read(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "reliability-table:", err)
		os.Exit(1)
	}
	if len(rows) == 0 {
		fmt.Fprintf(os.Stderr, "reliability-table: no rows in %s: did the tests run with %s set?\n", *dir, reliability.DirEnv)
		os.Exit(1)
	}
	b := render(rows)
	os.Stdout.Write(b)
	if *out != "" {
		if err := os.WriteFile(*out, b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "reliability-table:", err)
			os.Exit(1)
		}
	}
	for _, r := range rows {
		if r.Lost != 0 || r.Survived != r.Faults || strings.Contains(r.Notes, "FAILED") {
			fmt.Fprintf(os.Stderr, "reliability-table: %s (%s) lost %d, survived %d of %d faults\n", r.What, r.Test, r.Lost, r.Survived, r.Faults)
			os.Exit(1)
		}
	}
}

func render(rows []reliability.Row) []byte {
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Area < rows[j].Area })
	var b bytes.Buffer
	fmt.Fprintf(&b, "# berth reliability\n\n")
	fmt.Fprintf(&b, "Written by `make reliability` (the long form: `make soak`). Each row is\n")
	fmt.Fprintf(&b, "a test that tries to break berth; it fails when anything is lost or left\n")
	fmt.Fprintf(&b, "inconsistent.\n\n")
	fmt.Fprintf(&b, "- Date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- Host: %d CPUs, %s memory, load average %s\n", runtime.NumCPU(), memTotal(), loadAvg())
	fmt.Fprintf(&b, "- Machines: the security row boots a QEMU machine (1 vCPU, 768 MiB, 1000 MB disk, TCG);\n")
	fmt.Fprintf(&b, "  the soak and concurrency rows run the agent in the test's process, the fault rows run\n")
	fmt.Fprintf(&b, "  the agent binary as a process of its own (so it can be SIGKILLed), on this host\n")
	fmt.Fprintf(&b, "\n| Area | What | Runs | Faults injected | Survived | Data lost | Seconds | Test | Checked |\n")
	fmt.Fprintf(&b, "|---|---|---:|---:|---:|---:|---:|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %d | %.0f | %s | %s |\n", r.Area, r.What, r.Runs, r.Faults, r.Survived, r.Lost, r.Seconds, r.Test, strings.ReplaceAll(r.Notes, "|", "/"))
	}
	return b.Bytes()
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
			var kb int64
			fmt.Sscan(f[1], &kb)
			return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
		}
	}
	return "unknown"
}
