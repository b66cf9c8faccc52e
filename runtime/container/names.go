package container

import (
	"crypto/rand"
	"encoding/hex"
	"math/big"
	"regexp"
)

var (
	nameAdjectives = []string{
		"admiring", "bold", "brave", "busy", "calm", "clever", "cool", "dazzling",
		"eager", "elastic", "festive", "focused", "gallant", "gentle", "happy",
		"hopeful", "jolly", "keen", "kind", "lucid", "modest", "nifty", "optimistic",
		"patient", "quirky", "relaxed", "serene", "sharp", "stoic", "sweet",
		"tender", "trusting", "upbeat", "vibrant", "wizardly", "zealous",
	}
	nameSurnames = []string{
		"agnesi", "babbage", "bardeen", "bohr", "curie", "darwin", "dijkstra",
		"einstein", "euler", "fermat", "feynman", "galileo", "gauss", "goldberg",
		"hamilton", "hopper", "hypatia", "johnson", "kepler", "knuth", "lamarr",
		"lovelace", "maxwell", "meitner", "newton", "noether", "pascal", "ritchie",
		"shannon", "thompson", "torvalds", "turing", "wilson", "wozniak", "yonath",
	}
	validName = regexp.MustCompile(`^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)
)

// GenerateName returns a random adjective_surname container name.
func GenerateName() string {
	return pick(nameAdjectives) + "_" + pick(nameSurnames)
}

func pick(list []string) string {
	n, err := rand.Int(rand.Reader, big.NewInt(int64(len(list))))
	if err != nil {
		return list[0]
	}
	return list[n.Int64()]
}

// ValidName reports whether name is a valid container name (Docker's rule).
func ValidName(name string) bool { return validName.MatchString(name) }

// NewID returns a new 64-hex-digit container id.
func NewID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
