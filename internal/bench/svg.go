package bench

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// pathColors gives each path the same colour in every plot.
var pathColors = map[string]string{
	"direct":    "#444444",
	"off":       "#1f77b4",
	"encrypted": "#d62728",
	"wireguard": "#2ca02c",
}

// panel is one chart: x linear from 0 to xmax, y logarithmic from ylo to
// yhi (values at or below ylo are drawn on the bottom line).
type panel struct {
	x0, y0, w, h float64 // plot area in SVG units
	xmax         float64
	ylo, yhi     float64
}

func (p panel) px(x float64) float64 { return p.x0 + p.w*x/p.xmax }

func (p panel) py(y float64) float64 {
	y = math.Min(math.Max(y, p.ylo), p.yhi)
	f := (math.Log10(y) - math.Log10(p.ylo)) / (math.Log10(p.yhi) - math.Log10(p.ylo))
	return p.y0 + p.h*(1-f)
}

// Plot writes an SVG with two charts against the number of calls: p99
// one-way latency and loss, a line per path, the capacity limits dashed.
func Plot(w io.Writer, r *Run) error {
	xmax := 0.0
	for _, p := range r.Paths {
		for _, l := range p.Levels {
			xmax = math.Max(xmax, float64(l.Calls))
		}
	}
	if xmax == 0 {
		xmax = 1
	}
	const width, height = 960, 400
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	b.WriteString(`<rect width="100%" height="100%" fill="white"/>` + "\n")
	lat := panel{x0: 70, y0: 40, w: 360, h: 280, xmax: xmax, ylo: 0.1, yhi: 1000}
	loss := panel{x0: 560, y0: 40, w: 360, h: 280, xmax: xmax, ylo: 0.001, yhi: 100}
	drawPanel(&b, lat, "p99 one-way latency (ms)", MaxP99Ms, r, func(l Level) (float64, bool) { return l.P99Ms, l.Sent > 0 })
	drawPanel(&b, loss, "voice frames lost (%)", MaxLossPct, r, func(l Level) (float64, bool) { return l.LossPct, l.Sent > 0 })
	// Legend.
	x := 70.0
	for _, p := range r.Paths {
		c := pathColors[p.Name]
		if c == "" {
			c = "#9467bd"
		}
		fmt.Fprintf(&b, `<line x1="%.0f" y1="375" x2="%.0f" y2="375" stroke="%s" stroke-width="2.5"/>`, x, x+24, c)
		fmt.Fprintf(&b, `<text x="%.0f" y="379">%s</text>`+"\n", x+30, html.EscapeString(p.Title))
		x += 40 + 7.5*float64(len(p.Title))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func drawPanel(b *strings.Builder, p panel, title string, limit float64, r *Run, val func(Level) (float64, bool)) {
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" font-weight="bold">%s</text>`+"\n", p.x0, p.y0-15, html.EscapeString(title))
	fmt.Fprintf(b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="#999"/>`+"\n", p.x0, p.y0, p.w, p.h)
	for e := math.Ceil(math.Log10(p.ylo)); e <= math.Log10(p.yhi)+1e-9; e++ {
		v := math.Pow(10, e)
		y := p.py(v)
		fmt.Fprintf(b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#eee"/>`, p.x0, y, p.x0+p.w, y)
		fmt.Fprintf(b, `<text x="%.0f" y="%.1f" text-anchor="end">%s</text>`+"\n", p.x0-5, y+4, tickLabel(v))
	}
	for _, x := range xTicks(p.xmax) {
		fmt.Fprintf(b, `<text x="%.1f" y="%.0f" text-anchor="middle">%g</text>`, p.px(x), p.y0+p.h+16, x)
	}
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" text-anchor="middle">calls</text>`+"\n", p.x0+p.w/2, p.y0+p.h+34)
	fmt.Fprintf(b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#000" stroke-dasharray="4 3"/>`+"\n", p.x0, p.py(limit), p.x0+p.w, p.py(limit))
	for _, path := range r.Paths {
		c := pathColors[path.Name]
		if c == "" {
			c = "#9467bd"
		}
		var pts []string
		for _, l := range path.Levels {
			v, ok := val(l)
			if !ok {
				continue
			}
			x, y := p.px(float64(l.Calls)), p.py(v)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`, x, y, c)
		}
		if len(pts) > 1 {
			fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`, strings.Join(pts, " "), c)
		}
		b.WriteString("\n")
	}
}

func tickLabel(v float64) string {
	if v >= 1 {
		return fmt.Sprintf("%g", v)
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
}

// xTicks picks about five round numbers up to xmax.
func xTicks(xmax float64) []float64 {
	step := math.Pow(10, math.Floor(math.Log10(xmax/5)))
	for _, m := range []float64{1, 2, 5, 10} {
		if xmax/(step*m) <= 6 {
			step *= m
			break
		}
	}
	var t []float64
	for x := 0.0; x <= xmax+1e-9; x += step {
		t = append(t, x)
	}
	return t
}
