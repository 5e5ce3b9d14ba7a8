package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"

	"golang.org/x/crypto/bcrypt"
)

// Character classes, as upstream (terraform-provider-random) defines them.
const (
	upperChars          = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lowerChars          = "abcdefghijklmnopqrstuvwxyz"
	numericChars        = "0123456789"
	defaultSpecialChars = "!@#$%&*()-_=+[]{}<>:?"
)

// stringParams are the normalised inputs of RandomPassword and RandomString.
type stringParams struct {
	Length                                     int64
	Upper, Lower, Numeric, Special             bool
	MinUpper, MinLower, MinNumeric, MinSpecial int64
	OverrideSpecial                            string
}

func (p stringParams) specialChars() string {
	if p.OverrideSpecial != "" {
		return p.OverrideSpecial
	}
	return defaultSpecialChars
}

// generateString returns a random string of p.Length characters (runes) drawn with crypto/rand:
//   - first the minimum counts, each drawn from its own class (as upstream, a minimum applies even when its class
//     is switched off, e.g. minSpecial with special=false still yields special characters);
//   - the rest drawn from the union of the enabled classes;
//   - then a uniform shuffle (Fisher-Yates), so the minimum characters are not at predictable positions.
func generateString(p stringParams) (string, error) {
	pool := ""
	if p.Upper {
		pool += upperChars
	}
	if p.Lower {
		pool += lowerChars
	}
	if p.Numeric {
		pool += numericChars
	}
	if p.Special {
		pool += p.specialChars()
	}
	if pool == "" {
		return "", errors.New("the character set specified is empty")
	}
	mins := p.MinUpper + p.MinLower + p.MinNumeric + p.MinSpecial
	if p.Length < 1 || p.Length < mins {
		return "", fmt.Errorf("length %d is smaller than 1 or than the sum of the minimum counts (%d)", p.Length, mins)
	}

	result := make([]rune, 0, p.Length)
	for _, class := range []struct {
		chars string
		n     int64
	}{
		{upperChars, p.MinUpper},
		{lowerChars, p.MinLower},
		{numericChars, p.MinNumeric},
		{p.specialChars(), p.MinSpecial},
	} {
		var err error
		if result, err = appendRandom(result, class.chars, class.n); err != nil {
			return "", err
		}
	}
	result, err := appendRandom(result, pool, p.Length-int64(len(result)))
	if err != nil {
		return "", err
	}
	for i := len(result) - 1; i > 0; i-- {
		j, err := randIndex(i + 1)
		if err != nil {
			return "", err
		}
		result[i], result[j] = result[j], result[i]
	}
	return string(result), nil
}

// appendRandom appends n runes drawn uniformly from chars.
func appendRandom(dst []rune, chars string, n int64) ([]rune, error) {
	set := []rune(chars)
	for i := int64(0); i < n; i++ {
		j, err := randIndex(len(set))
		if err != nil {
			return nil, err
		}
		dst = append(dst, set[j])
	}
	return dst, nil
}

// randIndex returns a uniform random integer in [0, n) from crypto/rand.
func randIndex(n int) (int, error) {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return 0, fmt.Errorf("reading random numbers: %w", err)
	}
	return int(v.Int64()), nil
}

// randomBytes returns n bytes from crypto/rand.
func randomBytes(n int64) ([]byte, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("reading random bytes: %w", err)
	}
	return b, nil
}

// bcryptHash hashes s with bcrypt's default cost; like upstream, only the first 72 bytes count (bcrypt's limit).
func bcryptHash(s string) (string, error) {
	b := []byte(s)
	if len(b) > 72 {
		b = b[:72]
	}
	h, err := bcrypt.GenerateFromPassword(b, bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("bcrypt: %w", err)
	}
	return string(h), nil
}
