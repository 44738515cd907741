"""Questions the sample knowledge base (`kb/`) answers, each from a different passage, so a
reply tells which message it answers. Shared by the tests and the benchmarks."""

QUESTIONS = (
    "How long does delivery take?",
    "How can I track my order?",
    "Can I return a lamp?",
    "Which payment methods do you accept?",
    "When are you open?",
    "How do I clean my lamp?",
    "Is there a warranty?",
    "How do I get a refund?",
    "How much is shipping?",
    "Where is my parcel?",
)
