package config

import (
	"fmt"
	"slices"
	"strings"
)

// auditPrefix starts every key of the audit log's own (and Psono's audit
// keys). No other Psono key starts with it, so an unknown key that does is a
// misspelled setting.
const auditPrefix = "LOGGING_AUDIT"

// The limits of a typing slip: an unknown key within slipDistance edits
// (Damerau-Levenshtein: insert, delete, replace or swap two neighbours) of a
// setting at least slipMinLen long is taken for that setting misspelled.
// Shorter settings would match real keys of the server by chance.
const (
	slipDistance = 2
	slipMinLen   = 8
)

// psonoEnvNames are the PSONO_ environment variables of Psono's own that
// are not PSONO_<KEY> overrides.
var psonoEnvNames = []string{"PSONO_HOME", base64Var, tomlBase64Var}

// unknownKey returns an error when name, a key that is not a setting, looks
// like a misspelled one: it starts with LOGGING_AUDIT, or it is a setting in
// other letter case, or it is a typing slip away from one. The error says
// which setting was probably meant. Other keys are the rest of the server's:
// nil.
func unknownKey(name string) error {
	upper := strings.ToUpper(name)
	if _, ok := keyIndex[upper]; ok {
		return fmt.Errorf("is not a setting: setting names are upper case; did you mean %s?", upper)
	}
	best, bestDist := "", -1
	for i := range keys {
		k := keys[i].name
		d := editDistance(upper, k, slipDistance+1)
		if d <= slipDistance && len(k) >= slipMinLen && (bestDist < 0 || d < bestDist) {
			best, bestDist = k, d
		}
	}
	if best != "" {
		return fmt.Errorf("is not a setting, and it is ignored; did you mean %s?", best)
	}
	if !strings.HasPrefix(upper, auditPrefix) {
		return nil
	}
	if base, ok := strings.CutSuffix(upper, "_FILE"); ok {
		if _, ok := keyIndex[base]; ok {
			return fmt.Errorf("is not a setting: the audit settings are not read from files named by PSONO_<KEY>_FILE; set %s itself", base)
		}
	}
	var names []string
	for i := range keys {
		if strings.HasPrefix(keys[i].name, auditPrefix) {
			names = append(names, keys[i].name)
		}
	}
	return fmt.Errorf("is not a setting of the audit log, and it is ignored; the %s settings are %s", auditPrefix, strings.Join(names, ", "))
}

// checkEnvNames returns an error for the first PSONO_ environment variable in
// environ (entries "NAME=value") whose key looks like a misspelled setting
// (see unknownKey), in the order of their names.
func checkEnvNames(environ []string) error {
	var errs []*Error
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		key, ok := strings.CutPrefix(name, "PSONO_")
		if !ok || slices.Contains(psonoEnvNames, name) {
			continue
		}
		if _, ok := keyIndex[key]; ok {
			continue
		}
		if err := unknownKey(key); err != nil {
			errs = append(errs, &Error{Source: "environment variable " + name, Key: key, Err: err})
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return slices.MinFunc(errs, func(a, b *Error) int { return strings.Compare(a.Source, b.Source) })
}

// editDistance returns the optimal string alignment distance between a and
// b: the fewest single-byte insertions, deletions, replacements and swaps of
// two neighbouring bytes that turn one into the other (each part edited
// once; the restricted Damerau-Levenshtein distance). It stops counting at
// bound: any distance from bound on is returned as bound.
func editDistance(a, b string, bound int) int {
	if d := len(a) - len(b); d >= bound || -d >= bound {
		return bound
	}
	// Three rows of the table: two back (for swaps), one back, this one.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d = min(d, prev2[j-2]+1)
			}
			cur[j] = d
			rowMin = min(rowMin, d)
		}
		if rowMin >= bound {
			return bound
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(b)], bound)
}
