"""Every size limit a request meets, in one place (bad values are INVALID_ARGUMENT, naming the
limit; docs/operations.md has the table).

    image bytes       ServiceConfig.max_payload_bytes (16 MiB), any payload between tiers too
    image pixels      MAX_IMAGE_PIXELS, read from the image's header before it is decoded
    question          MAX_QUESTION_CHARS characters, words of the vocabulary (docs/questions.md)
    answer tokens     splitvlm.stages.MAX_ANSWER_TOKENS, a Hugging Face VLM's 256
                      (TierCompute.max_answer_tokens, advertised in every tier's status)
    plan name         MAX_PLAN_NAME_CHARS characters
    request id        MAX_REQUEST_ID_CHARS characters
    probe reply       MAX_PROBE_BYTES
    messages          ServiceConfig.max_payload_bytes + 1 MiB of framing (gRPC's own limit)
"""

MAX_IMAGE_PIXELS = 50_000_000  # 50 megapixels: 8660 x 5773; PIL's bomb warning starts at 89
MAX_QUESTION_CHARS = 1000
MAX_PLAN_NAME_CHARS = 100
MAX_REQUEST_ID_CHARS = 64
MAX_PROBE_BYTES = 8 << 20
