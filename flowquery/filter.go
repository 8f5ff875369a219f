package flowquery

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/mrtgo/mrtgo/flow"
)

// Filter is a compiled filter expression (see the package documentation for the
// language). The zero Filter and a nil *Filter match every flow. A Filter is safe for
// concurrent use.
type Filter struct {
	root  expr
	match func(*flow.Flow) bool
}

// ParseFilter parses and compiles a filter expression. An empty expression (or only
// blanks) matches every flow. A filter that does not parse gets a *SyntaxError.
func ParseFilter(s string) (*Filter, error) {
	e, err := parse(s)
	if err != nil {
		return nil, err
	}
	return &Filter{root: e, match: e.compile(false)}, nil
}

// MustParseFilter is ParseFilter for filters known to be valid (in tests and
// examples); it panics on a bad one.
func MustParseFilter(s string) *Filter {
	f, err := ParseFilter(s)
	if err != nil {
		panic(err)
	}
	return f
}

// Match reports whether the flow passes the filter. It allocates nothing.
func (f *Filter) Match(fl *flow.Flow) bool {
	if f == nil || f.match == nil {
		return true
	}
	return f.match(fl)
}

// Fields returns the names of the fields of flow.Flow the filter reads, in the order
// they are declared: what a store that reads columns must read for Match to see
// every field it tests ("Src", "DstPort", ...). A filter that matches every flow reads
// none.
func (f *Filter) Fields() []string {
	var s fieldSet
	if f != nil && f.root != nil {
		f.root.fields(&s)
	}
	return s.names()
}

// matchesAll reports whether the filter passes every flow without looking at it.
func (f *Filter) matchesAll() bool {
	if f == nil || f.root == nil {
		return true
	}
	_, ok := f.root.(anyExpr)
	return ok
}

// String is the filter in canonical form: keywords in lower case, protocol names,
// minimal parentheses, "and" and "or" spelled out. It parses back to the same filter.
func (f *Filter) String() string {
	if f == nil || f.root == nil {
		return "any"
	}
	return f.root.String()
}

// dir says which side of a flow an address or port primitive looks at.
type dir uint8

const (
	either dir = iota // source or destination
	src
	dst
)

func (d dir) prefix() string {
	return [...]string{"", "src ", "dst "}[d]
}

// cmpOp is a comparison of a number.
type cmpOp uint8

const (
	opEq cmpOp = iota
	opLt
	opGt
	opLe
	opGe
)

var cmpOps = map[string]cmpOp{"=": opEq, "==": opEq, "<": opLt, ">": opGt, "<=": opLe, ">=": opGe,
	"eq": opEq, "lt": opLt, "gt": opGt, "le": opLe, "ge": opGe}

func (o cmpOp) prefix() string {
	return [...]string{"", "< ", "> ", "<= ", ">= "}[o]
}

func (o cmpOp) test(v, n uint64) bool {
	switch o {
	case opLt:
		return v < n
	case opGt:
		return v > n
	case opLe:
		return v <= n
	case opGe:
		return v >= n
	}
	return v == n
}

// expr is a node of a parsed filter.
type expr interface {
	String() string
	compile(neg bool) func(*flow.Flow) bool
	// fields adds the fields of flow.Flow the node reads.
	fields(*fieldSet)
}

type (
	anyExpr  struct{}
	notExpr  struct{ x expr }
	andExpr  struct{ xs []expr } // at least two, none an andExpr
	orExpr   struct{ xs []expr } // at least two, none an orExpr
	hostExpr struct {
		dir  dir
		addr netip.Addr
	}
	netExpr struct {
		dir dir
		net netip.Prefix // masked
	}
	portExpr struct {
		dir  dir
		op   cmpOp
		port uint16
	}
	portInExpr struct {
		dir   dir
		ports []uint16 // sorted, unique
	}
	protoExpr   struct{ proto uint8 }
	flagsExpr   struct{ flags uint8 } // all of these bits set
	counterExpr struct {
		packets bool // else bytes
		op      cmpOp
		n       uint64
	}
	deviceExpr struct{ name string }
	ifExpr     struct {
		dir  dir
		name string
	} // src is in, dst is out
	exporterExpr struct{ addr netip.Addr }
)

func (anyExpr) String() string { return "any" }

func (e notExpr) String() string { return "not " + paren(e.x, false) }

func (e andExpr) String() string {
	parts := make([]string, len(e.xs))
	for i, x := range e.xs {
		parts[i] = paren(x, true)
	}
	return strings.Join(parts, " and ")
}

func (e orExpr) String() string {
	parts := make([]string, len(e.xs))
	for i, x := range e.xs {
		parts[i] = x.String() // and and not bind tighter
	}
	return strings.Join(parts, " or ")
}

// paren wraps x in parentheses where its operator binds looser than the one around it:
// an or inside and or not, an and inside not.
func paren(x expr, inAnd bool) string {
	switch x.(type) {
	case orExpr:
		return "(" + x.String() + ")"
	case andExpr:
		if !inAnd {
			return "(" + x.String() + ")"
		}
	}
	return x.String()
}

func (e hostExpr) String() string { return e.dir.prefix() + "host " + e.addr.String() }
func (e netExpr) String() string  { return e.dir.prefix() + "net " + e.net.String() }
func (e portExpr) String() string {
	return e.dir.prefix() + "port " + e.op.prefix() + strconv.Itoa(int(e.port))
}
func (e portInExpr) String() string {
	s := make([]string, len(e.ports))
	for i, p := range e.ports {
		s[i] = strconv.Itoa(int(p))
	}
	return e.dir.prefix() + "port in [" + strings.Join(s, " ") + "]"
}
func (e protoExpr) String() string { return "proto " + protoName(e.proto) }
func (e flagsExpr) String() string { return "flags " + flagLetters(e.flags) }
func (e counterExpr) String() string {
	what := "bytes "
	if e.packets {
		what = "packets "
	}
	return what + e.op.prefix() + strconv.FormatUint(e.n, 10)
}
func (e deviceExpr) String() string { return "device " + nameString(e.name) }
func (e ifExpr) String() string {
	return [...]string{"", "in ", "out "}[e.dir] + "if " + nameString(e.name)
}
func (e exporterExpr) String() string { return "exporter " + e.addr.String() }

// nameString writes a name bare when it lexes back as the same single word that is
// not a keyword, quoted otherwise.
func nameString(s string) string {
	if s == "" || keywords[strings.ToLower(s)] {
		return quote(s)
	}
	for i := 0; i < len(s); i++ {
		if !wordByte(s[i]) {
			return quote(s)
		}
	}
	if _, ok := cmpOps[strings.ToLower(s)]; ok {
		return quote(s)
	}
	return s
}

// keywords may not be bare names: "device and" would not mean the device "and".
var keywords = map[string]bool{"and": true, "or": true, "not": true, "any": true, "src": true, "dst": true,
	"host": true, "ip": true, "net": true, "port": true, "in": true, "out": true, "proto": true, "flags": true,
	"bytes": true, "packets": true, "device": true, "if": true, "exporter": true}

// protocols are the protocol names the language knows, as IANA names them
// (icmp6 for ipv6-icmp, as nfdump spells it).
var protocols = map[string]uint8{"icmp": 1, "igmp": 2, "ipip": 4, "tcp": 6, "udp": 17, "ipv6": 41,
	"rsvp": 46, "gre": 47, "esp": 50, "ah": 51, "icmp6": 58, "ospf": 89, "pim": 103, "vrrp": 112,
	"l2tp": 115, "sctp": 132}

func protoName(p uint8) string {
	for name, n := range protocols {
		if n == p {
			return name
		}
	}
	return strconv.Itoa(int(p))
}

// tcpFlags are the TCP flag letters, nfdump's, in its display order.
var tcpFlags = []struct {
	letter byte
	bit    uint8
}{{'U', 0x20}, {'A', 0x10}, {'P', 0x08}, {'R', 0x04}, {'S', 0x02}, {'F', 0x01}}

const allFlags = 0x3f

func flagLetters(f uint8) string {
	var b []byte
	for _, fl := range tcpFlags {
		if f&fl.bit != 0 {
			b = append(b, fl.letter)
		}
	}
	return string(b)
}

// Fields each node reads.

func (anyExpr) fields(*fieldSet)        {}
func (e notExpr) fields(s *fieldSet)    { e.x.fields(s) }
func (e andExpr) fields(s *fieldSet)    { fieldsAll(e.xs, s) }
func (e orExpr) fields(s *fieldSet)     { fieldsAll(e.xs, s) }
func (e hostExpr) fields(s *fieldSet)   { s.sides(e.dir, fieldSrc, fieldDst) }
func (e netExpr) fields(s *fieldSet)    { s.sides(e.dir, fieldSrc, fieldDst) }
func (e portExpr) fields(s *fieldSet)   { s.sides(e.dir, fieldSrcPort, fieldDstPort) }
func (e portInExpr) fields(s *fieldSet) { s.sides(e.dir, fieldSrcPort, fieldDstPort) }
func (protoExpr) fields(s *fieldSet)    { *s |= fieldProto }
func (flagsExpr) fields(s *fieldSet)    { *s |= fieldTCPFlags }
func (deviceExpr) fields(s *fieldSet)   { *s |= fieldDevice }
func (e ifExpr) fields(s *fieldSet)     { s.sides(e.dir, fieldIn, fieldOut) }
func (exporterExpr) fields(s *fieldSet) { *s |= fieldExporter }
func (e counterExpr) fields(s *fieldSet) {
	if e.packets {
		*s |= fieldPackets
	} else {
		*s |= fieldBytes
	}
}

func fieldsAll(es []expr, s *fieldSet) {
	for _, e := range es {
		e.fields(s)
	}
}

// Predicates. Each closes over values only and allocates nothing when called. neg
// says the node is under an odd number of nots, which only flags care about.

func (anyExpr) compile(neg bool) func(*flow.Flow) bool { return func(*flow.Flow) bool { return true } }

func (e notExpr) compile(neg bool) func(*flow.Flow) bool {
	x := e.x.compile(!neg)
	return func(f *flow.Flow) bool { return !x(f) }
}

func (e andExpr) compile(neg bool) func(*flow.Flow) bool {
	xs := compileAll(e.xs, neg)
	if len(xs) == 2 {
		a, b := xs[0], xs[1]
		return func(f *flow.Flow) bool { return a(f) && b(f) }
	}
	return func(f *flow.Flow) bool {
		for _, x := range xs {
			if !x(f) {
				return false
			}
		}
		return true
	}
}

func (e orExpr) compile(neg bool) func(*flow.Flow) bool {
	xs := compileAll(e.xs, neg)
	if len(xs) == 2 {
		a, b := xs[0], xs[1]
		return func(f *flow.Flow) bool { return a(f) || b(f) }
	}
	return func(f *flow.Flow) bool {
		for _, x := range xs {
			if x(f) {
				return true
			}
		}
		return false
	}
}

func compileAll(es []expr, neg bool) []func(*flow.Flow) bool {
	fs := make([]func(*flow.Flow) bool, len(es))
	for i, e := range es {
		fs[i] = e.compile(neg)
	}
	return fs
}

func (e hostExpr) compile(neg bool) func(*flow.Flow) bool {
	a := e.addr
	switch e.dir {
	case src:
		return func(f *flow.Flow) bool { return f.Src == a }
	case dst:
		return func(f *flow.Flow) bool { return f.Dst == a }
	}
	return func(f *flow.Flow) bool { return f.Src == a || f.Dst == a }
}

func (e netExpr) compile(neg bool) func(*flow.Flow) bool {
	p := e.net
	switch e.dir {
	case src:
		return func(f *flow.Flow) bool { return p.Contains(f.Src) }
	case dst:
		return func(f *flow.Flow) bool { return p.Contains(f.Dst) }
	}
	return func(f *flow.Flow) bool { return p.Contains(f.Src) || p.Contains(f.Dst) }
}

func (e portExpr) compile(neg bool) func(*flow.Flow) bool {
	op, n := e.op, uint64(e.port)
	switch e.dir {
	case src:
		return func(f *flow.Flow) bool { return op.test(uint64(f.SrcPort), n) }
	case dst:
		return func(f *flow.Flow) bool { return op.test(uint64(f.DstPort), n) }
	}
	return func(f *flow.Flow) bool { return op.test(uint64(f.SrcPort), n) || op.test(uint64(f.DstPort), n) }
}

func (e portInExpr) compile(neg bool) func(*flow.Flow) bool {
	set := new([65536 / 64]uint64)
	for _, p := range e.ports {
		set[p/64] |= 1 << (p % 64)
	}
	in := func(p uint16) bool { return set[p/64]&(1<<(p%64)) != 0 }
	switch e.dir {
	case src:
		return func(f *flow.Flow) bool { return in(f.SrcPort) }
	case dst:
		return func(f *flow.Flow) bool { return in(f.DstPort) }
	}
	return func(f *flow.Flow) bool { return in(f.SrcPort) || in(f.DstPort) }
}

func (e protoExpr) compile(neg bool) func(*flow.Flow) bool {
	p := e.proto
	return func(f *flow.Flow) bool { return f.Proto == p }
}

// compile tests that all the flags are set; under an odd number of nots it tests that
// any is, so that the not around it means none is, as nfdump negates flags.
func (e flagsExpr) compile(neg bool) func(*flow.Flow) bool {
	m := e.flags
	if neg {
		return func(f *flow.Flow) bool { return f.TCPFlags&m != 0 }
	}
	return func(f *flow.Flow) bool { return f.TCPFlags&m == m }
}

func (e counterExpr) compile(neg bool) func(*flow.Flow) bool {
	op, n := e.op, e.n
	if e.packets {
		return func(f *flow.Flow) bool { return op.test(f.Packets, n) }
	}
	return func(f *flow.Flow) bool { return op.test(f.Bytes, n) }
}

func (e deviceExpr) compile(neg bool) func(*flow.Flow) bool {
	name := e.name
	return func(f *flow.Flow) bool { return f.Device == name }
}

func (e ifExpr) compile(neg bool) func(*flow.Flow) bool {
	name := e.name
	switch e.dir {
	case src:
		return func(f *flow.Flow) bool { return f.In == name }
	case dst:
		return func(f *flow.Flow) bool { return f.Out == name }
	}
	return func(f *flow.Flow) bool { return f.In == name || f.Out == name }
}

func (e exporterExpr) compile(neg bool) func(*flow.Flow) bool {
	a := e.addr
	return func(f *flow.Flow) bool { return f.Exporter == a }
}

// parser is a recursive-descent parser over the tokens of one filter.
type parser struct {
	src   string
	toks  []token
	pos   int
	depth int // of parentheses and nots, bounded by maxDepth
}

func parse(s string) (expr, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{src: s, toks: toks}
	if p.peek().kind == tokEOF {
		return anyExpr{}, nil
	}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		if t.kind == tokRParen {
			return nil, p.errAt(t, `unbalanced ")"`)
		}
		return nil, p.errAt(t, "expected \"and\", \"or\" or the end of the filter, got %s", t.describe())
	}
	return e, nil
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tokEOF {
		p.pos++
	}
	return t
}

// isWord reports whether the next token is the keyword w (case-insensitive).
func (p *parser) isWord(w string) bool {
	t := p.peek()
	return t.kind == tokWord && strings.EqualFold(t.text, w)
}

func (p *parser) errAt(t token, format string, args ...any) *SyntaxError {
	return &SyntaxError{Filter: p.src, Column: t.col, Msg: fmt.Sprintf(format, args...)}
}

// maxDepth bounds nesting, so that a hostile filter cannot exhaust the stack.
const maxDepth = 200

func (p *parser) or() (expr, error) { return p.binary(0) }

// binary parses or (level 0) and and (level 1) chains, flattening nested chains of
// the same operator so that the tree has one shape for one meaning.
func (p *parser) binary(level int) (expr, error) {
	sub := func() (expr, error) {
		if level == 0 {
			return p.binary(1)
		}
		return p.unary()
	}
	x, err := sub()
	if err != nil {
		return nil, err
	}
	xs := []expr{x}
	for {
		t := p.peek()
		if level == 0 && !(t.kind == tokOr || p.isWord("or")) || level == 1 && !(t.kind == tokAnd || p.isWord("and")) {
			break
		}
		p.next()
		y, err := sub()
		if err != nil {
			return nil, err
		}
		xs = append(xs, y)
	}
	if len(xs) == 1 {
		return x, nil
	}
	var flat []expr
	for _, x := range xs {
		switch e := x.(type) {
		case orExpr:
			if level == 0 {
				flat = append(flat, e.xs...)
				continue
			}
		case andExpr:
			if level == 1 {
				flat = append(flat, e.xs...)
				continue
			}
		}
		flat = append(flat, x)
	}
	if level == 0 {
		return orExpr{flat}, nil
	}
	return andExpr{flat}, nil
}

func (p *parser) unary() (expr, error) {
	t := p.peek()
	if t.kind == tokNot || p.isWord("not") || t.kind == tokLParen {
		if p.depth++; p.depth > maxDepth {
			return nil, p.errAt(t, "filter nested deeper than %d", maxDepth)
		}
		defer func() { p.depth-- }()
	}
	switch {
	case t.kind == tokNot || p.isWord("not"):
		p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return notExpr{x}, nil
	case t.kind == tokLParen:
		p.next()
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.peek(); c.kind != tokRParen {
			return nil, p.errAt(c, "expected \")\" to close the \"(\" at column %d, got %s", t.col, c.describe())
		}
		p.next()
		return x, nil
	}
	return p.primitive()
}

func (p *parser) primitive() (expr, error) {
	t := p.next()
	if t.kind != tokWord {
		return nil, p.errAt(t, "expected a filter primitive (host, net, port, proto, ...), got %s", t.describe())
	}
	switch w := strings.ToLower(t.text); w {
	case "any":
		return anyExpr{}, nil
	case "src", "dst":
		d := src
		if w == "dst" {
			d = dst
		}
		k := p.next()
		switch strings.ToLower(k.text) {
		case "host", "ip":
			if k.kind == tokWord {
				return p.host(d)
			}
		case "net":
			if k.kind == tokWord {
				return p.net(d)
			}
		case "port":
			if k.kind == tokWord {
				return p.port(d)
			}
		}
		return nil, p.errAt(k, "expected host, net or port after %q, got %s", t.text, k.describe())
	case "host", "ip":
		return p.host(either)
	case "net":
		return p.net(either)
	case "port":
		return p.port(either)
	case "proto":
		return p.proto()
	case "flags":
		return p.flags()
	case "bytes", "packets":
		return p.counter(w == "packets")
	case "device":
		name, err := p.name("a device name")
		if err != nil {
			return nil, err
		}
		return deviceExpr{name}, nil
	case "in", "out", "if":
		d := either
		if w != "if" {
			d = src
			if w == "out" {
				d = dst
			}
			if k := p.next(); k.kind != tokWord || !strings.EqualFold(k.text, "if") {
				return nil, p.errAt(k, "expected \"if\" after %q, got %s", t.text, k.describe())
			}
		}
		name, err := p.name("an interface name")
		if err != nil {
			return nil, err
		}
		return ifExpr{d, name}, nil
	case "exporter":
		a, err := p.addr()
		if err != nil {
			return nil, err
		}
		return exporterExpr{a}, nil
	}
	return nil, p.errAt(t, "expected a filter primitive (host, net, port, proto, ...), got %s", t.describe())
}

func (p *parser) addr() (netip.Addr, error) {
	t := p.next()
	a, err := netip.ParseAddr(t.text)
	if t.kind != tokWord || err != nil || a.Zone() != "" {
		return netip.Addr{}, p.errAt(t, "expected an IPv4 or IPv6 address, got %s", t.describe())
	}
	return a.Unmap(), nil
}

func (p *parser) host(d dir) (expr, error) {
	a, err := p.addr()
	if err != nil {
		return nil, err
	}
	return hostExpr{d, a}, nil
}

func (p *parser) net(d dir) (expr, error) {
	t := p.next()
	n, err := netip.ParsePrefix(t.text)
	if t.kind != tokWord || err != nil {
		return nil, p.errAt(t, "expected a network such as 10.0.0.0/8 or 2001:db8::/32, got %s", t.describe())
	}
	if n.Addr().Is4In6() {
		return nil, p.errAt(t, "expected a network such as 10.0.0.0/8 or 2001:db8::/32, got the IPv4-mapped %s", t.describe())
	}
	return netExpr{d, n.Masked()}, nil
}

func (p *parser) port(d dir) (expr, error) {
	if p.isWord("in") {
		p.next()
		return p.portList(d)
	}
	op := p.cmp()
	n, err := p.portNumber()
	if err != nil {
		return nil, err
	}
	return portExpr{d, op, n}, nil
}

// cmp reads an optional comparison operator; none is equality.
func (p *parser) cmp() cmpOp {
	t := p.peek()
	if op, ok := cmpOps[strings.ToLower(t.text)]; ok && (t.kind == tokCmp || t.kind == tokWord) {
		p.next()
		return op
	}
	return opEq
}

func (p *parser) portNumber() (uint16, error) {
	t := p.next()
	n, err := strconv.ParseUint(t.text, 10, 16)
	if t.kind != tokWord || err != nil || !isDigits(t.text) {
		return 0, p.errAt(t, "expected a port number (0-65535), got %s", t.describe())
	}
	return uint16(n), nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func (p *parser) portList(d dir) (expr, error) {
	open := p.next()
	if open.kind != tokLBracket {
		return nil, p.errAt(open, "expected \"[\" to start a list of ports, got %s", open.describe())
	}
	var ports []uint16
	for {
		if t := p.peek(); t.kind == tokRBracket {
			if len(ports) == 0 {
				return nil, p.errAt(t, "expected a port number (0-65535), got %s", t.describe())
			}
			p.next()
			break
		} else if t.kind == tokComma && len(ports) > 0 {
			p.next()
		} else if t.kind == tokEOF {
			return nil, p.errAt(t, "expected \"]\" to close the \"[\" at column %d, got %s", open.col, t.describe())
		}
		n, err := p.portNumber()
		if err != nil {
			return nil, err
		}
		ports = append(ports, n)
	}
	slices.Sort(ports)
	ports = slices.Compact(ports)
	if len(ports) == 1 {
		return portExpr{d, opEq, ports[0]}, nil
	}
	return portInExpr{d, ports}, nil
}

func (p *parser) proto() (expr, error) {
	t := p.next()
	if t.kind == tokWord {
		if n, ok := protocols[strings.ToLower(t.text)]; ok {
			return protoExpr{n}, nil
		}
		if isDigits(t.text) {
			if n, err := strconv.ParseUint(t.text, 10, 8); err == nil {
				return protoExpr{uint8(n)}, nil
			}
		}
	}
	return nil, p.errAt(t, "expected a protocol (tcp, udp, icmp, icmp6, gre, esp, ... or 0-255), got %s", t.describe())
}

func (p *parser) flags() (expr, error) {
	t := p.next()
	var f uint8
	for i := 0; t.kind == tokWord && i < len(t.text); i++ {
		c := t.text[i] &^ 0x20 // upper case
		if c == 'X' {
			f |= allFlags
			continue
		}
		k := slices.IndexFunc(tcpFlags, func(fl struct {
			letter byte
			bit    uint8
		}) bool {
			return fl.letter == c
		})
		if k < 0 {
			f = 0
			break
		}
		f |= tcpFlags[k].bit
	}
	if f == 0 {
		return nil, p.errAt(t, "expected TCP flags, letters of UAPRSF (X for all), got %s", t.describe())
	}
	return flagsExpr{f}, nil
}

// scales are the suffixes of counter values, powers of 1000 as in nfdump.
var scales = map[byte]uint64{'k': 1e3, 'K': 1e3, 'm': 1e6, 'M': 1e6, 'g': 1e9, 'G': 1e9, 't': 1e12, 'T': 1e12}

func (p *parser) counter(packets bool) (expr, error) {
	op := p.cmp()
	t := p.next()
	digits, scale := t.text, uint64(1)
	if n := len(digits); n > 1 {
		if s, ok := scales[digits[n-1]]; ok {
			digits, scale = digits[:n-1], s
		}
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	if t.kind != tokWord || err != nil || !isDigits(digits) {
		return nil, p.errAt(t, "expected a number, with k, M, G or T for thousands, millions..., got %s", t.describe())
	}
	if n > ^uint64(0)/scale {
		return nil, p.errAt(t, "number %s out of range", t.describe())
	}
	return counterExpr{packets, op, n * scale}, nil
}

// name reads a bare word or a quoted string.
func (p *parser) name(what string) (string, error) {
	t := p.next()
	if t.kind == tokString || t.kind == tokWord && !keywords[strings.ToLower(t.text)] {
		return t.text, nil
	}
	return "", p.errAt(t, "expected %s (quote it if it has spaces: \"Gi0/1 uplink\"), got %s", what, t.describe())
}
