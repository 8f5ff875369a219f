package render_test

import (
	"bytes"
	"fmt"
	"image/png"
	"log"
	"math"
	"time"

	"github.com/mrtgo/mrtgo/render"
)

// A day graph from rates fetched for the last 33h20m, with one missed poll.
func ExamplePNG() {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		log.Fatal(err)
	}
	end := time.Date(2026, 3, 29, 18, 0, 0, 0, loc)
	step := render.Day.Resolution()
	n := int(render.Day.Span() / step)
	g := render.Graph{
		Period:   render.Day,
		Start:    end.Add(-time.Duration(n-1) * step),
		Step:     step,
		End:      end,
		Location: loc,
		In:       make([]float64, n),
		Out:      make([]float64, n),
	}
	for i := range n {
		g.In[i], g.Out[i] = 40e6, 12e6
	}
	g.In[n-5], g.Out[n-5] = math.NaN(), math.NaN() // unknown: drawn as a gap

	var buf bytes.Buffer
	if err := render.PNG(&buf, g); err != nil {
		log.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("rows:", n, "image:", img.Bounds().Size())
	// Output:
	// rows: 400 image: (500,135)
}
