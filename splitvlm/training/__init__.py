"""`splitvlm train`: visual-side pretraining on dense cell targets, then one LM per tier."""
