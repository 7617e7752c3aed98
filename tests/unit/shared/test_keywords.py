import pytest

from shared.keywords import document, field_words, filename_words, word_parts, words


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("IMG_2041.jpg", ["img_2041.jpg", "img_2041", "img", "2041", "jpg"]),
        (
            "HolidayBeach2019.JPEG",
            ["holidaybeach2019.jpeg", "holidaybeach2019", "holiday", "beach", "2019", "jpeg"],
        ),
        ("IMGFile.png", ["imgfile.png", "imgfile", "img", "file", "png"]),
        ("ÉtéÀParis.jpg", ["étéàparis.jpg", "étéàparis", "été", "à", "paris", "jpg"]),
        # spaces: the parts only (a whitespace analyzer would split the whole name anyway)
        ("DSC-0042 (1).png", ["dsc", "0042", "1", "png"]),
        ("photos/2023/xmas tree.heic", ["xmas", "tree", "heic"]),
        ("C:\\Users\\me\\IMG_1.jpg", ["img_1.jpg", "img_1", "img", "1", "jpg"]),
        (".hidden", [".hidden", "hidden"]),
        ("noext", ["noext"]),
        (".", []),
        ("", []),
    ],
)
def test_a_file_name_is_found_whole_and_by_its_parts(name: str, expected: list[str]) -> None:
    assert filename_words(name) == expected


def test_the_words_of_text_are_lower_case_letters_and_digits() -> None:
    assert words("A red car, at night! Café-Roma 24h") == [
        "a", "red", "car", "at", "night", "café", "roma", "24h",
    ]  # fmt: skip
    assert words("__ -- !!") == []


def test_text_in_a_picture_is_found_by_the_parts_of_its_long_words() -> None:
    found = field_words({"text": "CAFEROMA OPEN 24H\nEspresso"})
    runs = found["text"]
    assert runs[0] == ["caferoma", "open", "24h"]
    assert runs[1] == ["espresso"]
    assert {"cafe", "roma", "fero", "espr", "presso"} <= set(runs[2])
    assert "caferoma" not in runs[2] and "open" not in runs[2]
    assert "text:roma" in document({"text": "CAFEROMA"}).split()


def test_word_parts_are_bounded() -> None:
    assert word_parts(["short", "a" * 100]) == []  # too short, or too long to be a word
    assert len(word_parts(["x" * 24])) == 20  # one part per size: all the same letters
    assert len(word_parts(["abcdefghijklmnopqrstuvwx"])) == sum(range(2, 22))


def test_auto_tags_are_a_keyword_field_of_their_own() -> None:
    found = field_words({"tags": ["my dog"], "auto_tags": ["dog", "ice cream"]})
    assert found["tag"] == [["my", "dog"]]
    assert found["autotag"] == [["dog"], ["ice", "cream"]]
    assert "autotag:cream" in document({"auto_tags": ["ice cream"]}).split()
