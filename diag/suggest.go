package diag

import (
	"fmt"
	"strings"
)

// synonyms maps words users reach for from other tools (Compose,
// Dockerfiles, Kubernetes) to nix2gpu's field names. A synonym is only
// suggested when its target is among the candidates.
var synonyms = map[string]string{
	"environment":  "env",
	"enviroment":   "env",
	"environ":      "env",
	"variables":    "env",
	"workdir":      "workingDir",
	"working_dir":  "workingDir",
	"cwd":          "workingDir",
	"expose":       "ports",
	"exposedports": "ports",
	"registry":     "registries",
	"pkgs":         "packages",
	"command":      "cmd",
}

// Suggest returns the candidate closest to name, or "" when none is a
// plausible typo: the nearest by edit distance within a third of the
// name's length, else a known synonym, else a candidate that the name
// extends or abbreviates ("enviroment" → "env").
func Suggest(name string, candidates []string) string {
	if s := suggestByDistance(name, candidates); s != "" {
		return s
	}
	lower := strings.ToLower(name)
	if target, ok := synonyms[lower]; ok {
		for _, c := range candidates {
			if c == target {
				return c
			}
		}
	}
	best := ""
	for _, c := range candidates {
		lc := strings.ToLower(c)
		if len(lc) >= 3 && (strings.HasPrefix(lower, lc) || (len(lower) >= 3 && strings.HasPrefix(lc, lower))) {
			if best == "" || len(c) > len(best) || (len(c) == len(best) && c < best) {
				best = c
			}
		}
	}
	return best
}

func suggestByDistance(name string, candidates []string) string {
	best, bestDist := "", -1
	for _, c := range candidates {
		d := levenshtein(name, c)
		if bestDist < 0 || d < bestDist || (d == bestDist && c < best) {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	limit := len([]rune(name)) / 3
	if limit < 2 {
		limit = 2
	}
	if bestDist > limit {
		return ""
	}
	return best
}

// DidYouMean formats a hint naming the closest candidate, or returns "" when
// there is none.
func DidYouMean(name string, candidates []string) string {
	if s := Suggest(name, candidates); s != "" {
		return fmt.Sprintf("did you mean %q?", s)
	}
	return ""
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
