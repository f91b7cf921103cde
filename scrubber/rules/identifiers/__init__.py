"""Identifiers and codes (ID): provider NPIs, procedure codes and qualifiers, units, unit basis
and place of service."""
