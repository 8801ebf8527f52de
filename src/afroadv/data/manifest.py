"""Rebuild data/MANIFEST.json (maintainers): origin, licence, citation and sha256 of every shipped
evaluation file. `python -m afroadv.data.manifest`; tests check the hashes against the files."""

from __future__ import annotations

import json

from afroadv.data.writers import write_text_atomic
from afroadv.resources import data_dir, sha256_file

SOURCES = [
    ("sts/semrel2024", "*.csv", "https://github.com/semantic-textual-relatedness/Semantic_Relatedness_SemEval2024",
     "not stated by the authors (not relicensed here)",
     "Ousidhoum et al. 2024. SemRel2024: A Collection of Semantic Textual Relatedness Datasets for 13 Languages. "
     "Findings of ACL 2024; Ousidhoum et al. 2024. SemEval-2024 Task 1. SemEval-2024."),
    ("bitext/tatoeba", "tatoeba.*", "https://github.com/facebookresearch/LASER (data/tatoeba/v1), from tatoeba.org 2018-11-17",
     "CC-BY-2.0-FR",
     "Artetxe and Schwenk. 2019. Massively Multilingual Sentence Embeddings for Zero-Shot Cross-Lingual Transfer and Beyond. TACL."),
    ("bitext/ntrex128", "*.txt", "https://github.com/MicrosoftTranslator/NTREX", "CC-BY-SA-4.0",
     "Federmann, Kocmi and Xin. 2022. NTREX-128 - News Test References for MT Evaluation of 128 Languages. SUMEval 2022."),
    ("bitext/ntrex128", "DOCUMENT_IDS.tsv", "https://github.com/MicrosoftTranslator/NTREX (each line's source article; news-graded sets)",
     "CC-BY-SA-4.0",
     "Federmann, Kocmi and Xin. 2022. NTREX-128 - News Test References for MT Evaluation of 128 Languages. SUMEval 2022."),
    ("ood/afrisenti", "*.tsv", "https://github.com/afrisenti-semeval/afrisent-semeval-2023 (dev split)", "CC-BY-4.0",
     "Muhammad et al. 2023. AfriSenti: A Twitter Sentiment Analysis Benchmark for African Languages. EMNLP 2023; "
     "Muhammad et al. 2023. SemEval-2023 Task 12. SemEval-2023."),
    ("ood/bible", "*.tsv", "https://github.com/christos-c/bible-corpus (Swahili-NT, Zulu-NT)", "CC0-1.0",
     "Christodoulopoulos and Steedman. 2015. A massively parallel corpus: the Bible in 100 languages. LRE 49(2)."),
    ("stopwords", "*.txt", "PyPI stopwordsiso 0.7.1 and spaCy 3.8.14 stop-word lists", "MIT",
     "https://github.com/stopwords-iso/stopwords-iso; https://spacy.io"),
    ("keyboards", "*.yaml", "afroadv (layouts written for this project; the African layouts state facts from Unicode CLDR "
     "keyboards/windows and Keyman's GFF keyboards (MIT), cited in each file)", "Apache-2.0", ""),
    ("letters", "*.tsv", "afroadv build from NTREX-128, AfriSenti, Bible, Tatoeba, SemRel 2024 train, GATITOS (letter counts; letters/MANIFEST.json)",
     "CC-BY-SA-4.0 (counts derived from NTREX-128 et al.)", ""),
    ("words", "*.tsv", "afroadv build from NTREX-128 alignments, corpora, stop-word lists, numbers/ and names/ (words/MANIFEST.json)",
     "CC-BY-SA-4.0 (derived from NTREX-128)", ""),
    ("variants", "*.tsv", "afroadv build: spelling rules (afroadv.spelling) x corpus attestation (variants/MANIFEST.json)",
     "CC-BY-SA-4.0 (derived from NTREX-128)", ""),
    ("numbers", "*.yaml", "afroadv (number words written for this project, reviewed)", "Apache-2.0", ""),
    ("arabizi", "*.yaml", "afroadv (Arabizi conventions by region, written for this project; sources in the files)", "Apache-2.0", ""),
    ("orthography", "*.yaml", "afroadv (non-standard spellings with counts measured on AfriSenti dev tweets: "
     "python -m afroadv.build.orthography)", "Apache-2.0", ""),
    ("names", "*.tsv", "afroadv (gazetteer written for this project, reviewed; sources in the build notes)", "Apache-2.0", ""),
    ("names", "*.yaml", "afroadv (cue words before names of known kind, written for this project; sources in the file)",
     "Apache-2.0", ""),
    ("negation", "*.yaml", "afroadv (negation rules written for this project from the grammars each file cites; the "
     "Swahili verb stems from the World Loanword Database)", "Apache-2.0 (swa.yaml verb list: CC-BY-4.0, WOLD)",
     "Schadeberg, T. C. 2009. Swahili vocabulary. In M. Haspelmath and U. Tadmor (eds.), World Loanword Database. "
     "Leipzig: Max Planck Institute for Evolutionary Anthropology."),
    ("lexicons/review", "*.tsv", "afroadv (reviewers' judgments of lexicon samples)", "Apache-2.0", ""),
    (".", "validation.json", "afroadv (registered validations of generated sets)", "Apache-2.0", ""),
    ("models", "*.yaml", "afroadv (architecture facts of the published XLM-R checkpoints, from their config.json on the "
     "Hugging Face hub, cited in the file)", "Apache-2.0 (facts; the checkpoints themselves are MIT)",
     "Conneau et al. 2020. Unsupervised Cross-lingual Representation Learning at Scale. ACL 2020; Goyal et al. 2021. "
     "Larger-Scale Transformers for Multilingual Masked Language Modeling. RepL4NLP 2021."),
    ("robust-xlt", "*", "https://github.com/uclanlp/Robust-XLT (counterfitted_neighbors.json, unchanged)", "Apache-2.0",
     "Huang, Ahmad, Peng and Chang. 2021. Improving Zero-Shot Cross-Lingual Transfer Learning via Robust Training. "
     "EMNLP 2021; Mrksic et al. 2016. Counter-fitting Word Vectors to Linguistic Constraints. NAACL-HLT 2016."),
]


def build_manifest() -> dict:
    root = data_dir()
    files = []
    for folder, pattern, origin, licence, citation in SOURCES:
        for p in sorted((root / folder).glob(pattern)):
            files.append({"path": p.relative_to(root).as_posix(), "sha256": sha256_file(p), "bytes": p.stat().st_size,
                          "origin": origin, "licence": licence, "citation": citation})
    return {"description": "Data shipped with afroadv: origin, licence, citation and sha256 of every file "
                           "(lexicons: see lexicons/MANIFEST.json).", "files": files}


if __name__ == "__main__":
    manifest = build_manifest()
    write_text_atomic(data_dir() / "MANIFEST.json", json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    print(f"{len(manifest['files'])} files")
