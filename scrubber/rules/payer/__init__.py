"""Payer front-end edits (PE): duplicates in a file and across files, claim frequency codes and
the payer's claim number, who the patient is (patient loop, SBR02, PAT01, HL04), repeated
service lines."""
