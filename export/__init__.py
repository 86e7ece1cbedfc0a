"""Export as its own stage: court and disclosure bags (BagIt) with custody proofs and a stdlib verifier."""
