"""Dates (DT, TF): the claim's DTP dates as dates, the dates of service against the as-of date
and the patient's birth date, and timely filing."""
