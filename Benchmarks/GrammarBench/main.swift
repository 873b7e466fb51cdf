print("GrammarBench: not implemented yet")
