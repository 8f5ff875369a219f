package discover

import (
	"bytes"
	"fmt"
	"strings"
)

// Diff returns a unified diff of a and b (lines with their "\n"), with three lines of
// context, or "" when they are equal.
func Diff(nameA, nameB string, a, b []byte) string {
	x, y := splitLines(a), splitLines(b)
	// Common prefix and suffix first: merges insert, so the middle is small.
	pre := 0
	for pre < len(x) && pre < len(y) && x[pre] == y[pre] {
		pre++
	}
	suf := 0
	for suf < len(x)-pre && suf < len(y)-pre && x[len(x)-1-suf] == y[len(y)-1-suf] {
		suf++
	}
	if pre == len(x) && pre == len(y) {
		return ""
	}
	ops := lcsOps(x[pre:len(x)-suf], y[pre:len(y)-suf])
	type line struct {
		op   byte
		text string
		i, j int // line numbers (0-based) in x and y before this line
	}
	var all []line
	i, j := 0, 0
	emit := func(op byte, t string) {
		all = append(all, line{op, t, i, j})
		switch op {
		case ' ':
			i++
			j++
		case '-':
			i++
		case '+':
			j++
		}
	}
	for k := 0; k < pre; k++ {
		emit(' ', x[k])
	}
	for _, o := range ops {
		emit(o.op, o.text)
	}
	for k := len(x) - suf; k < len(x); k++ {
		emit(' ', x[k])
	}

	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", nameA, nameB)
	const ctx = 3
	for k := 0; k < len(all); {
		if all[k].op == ' ' {
			k++
			continue
		}
		start := max(k-ctx, 0)
		end := k
		for end < len(all) {
			if all[end].op != ' ' {
				end++
				continue
			}
			run := end
			for run < len(all) && all[run].op == ' ' {
				run++
			}
			if run == len(all) || run-end > 2*ctx {
				end = min(end+ctx, len(all))
				break
			}
			end = run
		}
		na, nb := 0, 0
		for _, l := range all[start:end] {
			if l.op != '+' {
				na++
			}
			if l.op != '-' {
				nb++
			}
		}
		la, lb := all[start].i+1, all[start].j+1
		if na == 0 {
			la-- // an empty range names the line before it
		}
		if nb == 0 {
			lb--
		}
		fmt.Fprintf(&out, "@@ -%d,%d +%d,%d @@\n", la, na, lb, nb)
		for _, l := range all[start:end] {
			t := l.text
			if !strings.HasSuffix(t, "\n") {
				t += "\n\\ No newline at end of file\n"
			}
			out.WriteByte(l.op)
			out.WriteString(t)
		}
		k = end
	}
	return out.String()
}

type diffOp struct {
	op   byte
	text string
}

// lcsOps is the classic longest-common-subsequence edit script; the inputs are the
// differing middle of two files, small for the edits discover makes.
func lcsOps(x, y []string) []diffOp {
	n, m := len(x), len(y)
	if n*m > 25_000_000 {
		ops := make([]diffOp, 0, n+m)
		for _, l := range x {
			ops = append(ops, diffOp{'-', l})
		}
		for _, l := range y {
			ops = append(ops, diffOp{'+', l})
		}
		return ops
	}
	t := make([][]int32, n+1)
	for i := range t {
		t[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				t[i][j] = t[i+1][j+1] + 1
			} else {
				t[i][j] = max(t[i+1][j], t[i][j+1])
			}
		}
	}
	var ops []diffOp
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case x[i] == y[j]:
			ops = append(ops, diffOp{' ', x[i]})
			i++
			j++
		case t[i+1][j] >= t[i][j+1]:
			ops = append(ops, diffOp{'-', x[i]})
			i++
		default:
			ops = append(ops, diffOp{'+', y[j]})
			j++
		}
	}
	for ; i < n; i++ {
		ops = append(ops, diffOp{'-', x[i]})
	}
	for ; j < m; j++ {
		ops = append(ops, diffOp{'+', y[j]})
	}
	return ops
}

// splitLines splits src into lines that keep their "\n".
func splitLines(src []byte) []string {
	var out []string
	for l := range bytes.Lines(src) {
		out = append(out, string(l))
	}
	return out
}
