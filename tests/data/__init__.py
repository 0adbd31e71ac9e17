"""Tests of shapes-vqa v1 data (splitvlm.data) against ../shared/shapes-vqa.md."""
