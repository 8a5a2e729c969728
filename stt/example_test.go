package stt_test

import (
	"fmt"

	"github.com/switchboard-go/switchboard/stt"
)

// Grammars restrict what an engine listens for; Digits and YesNo read the transcripts.
func Example() {
	fmt.Print(stt.DigitsGrammar())
	digits, ok := stt.Digits("four two oh one")
	fmt.Println(digits, ok)

	yes, ok := stt.YesNo("no thank you")
	fmt.Println(yes, ok)

	menu, err := stt.WordListGrammar("sales", "technical support", "billing")
	if err != nil {
		panic(err)
	}
	fmt.Print(menu)
	// Output:
	// #JSGF V1.0;
	// grammar digits;
	// public <digits> = <digit>+;
	// <digit> = zero | oh | one | two | three | four | five | six | seven | eight | nine;
	// 4201 true
	// false true
	// #JSGF V1.0;
	// grammar words;
	// public <phrase> = sales | technical support | billing;
}
