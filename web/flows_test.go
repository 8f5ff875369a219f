package web

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mrtgo/mrtgo/render"
)

// The pages' layer keys have the colours of the stacked graphs' layers.
func TestLayerColours(t *testing.T) {
	if len(render.StackColors) != stackLayers {
		t.Fatalf("render has %d layer colours, the style sheet %d", len(render.StackColors), stackLayers)
	}
	for i, c := range render.StackColors {
		if rule := fmt.Sprintf(".l%d{background:%s}", i+1, c); !strings.Contains(styleCSS, rule) {
			t.Errorf("style.css lacks %s", rule)
		}
	}
}
