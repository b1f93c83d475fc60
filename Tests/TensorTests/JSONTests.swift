import Testing
@testable import Tensor

@Suite struct JSONTests {
    private func problem(_ text: String, limits: JSON.Limits = .document) -> String? {
        do {
            _ = try JSON(json: text, source: "x.json", limits: limits)
            return nil
        } catch let error as InvalidInput {
            #expect(error.subject == "x.json")
            return error.problem
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test("a document keeps its keys in file order and renders back to the same tree")
    func documentsRoundTripThroughTheirRendering() throws {
        let text = #"{"b": [1, 2.5, -3e2], "a": {"s": "tab\tquote\" \u00e9 \ud83d\ude00", "t": true, "n": null}}"#
        let tree = try JSON(json: text, source: "x.json")
        guard case .object(let members) = tree else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == ["b", "a"])
        #expect(try JSON(json: tree.description, source: "again") == tree)
        guard case .object(let inner) = members[1].value, case .string(let s) = inner[0].value else { Issue.record("no string"); return }
        #expect(s == "tab\tquote\" é 😀")
        guard case .array(let numbers) = members[0].value else { Issue.record("no array"); return }
        #expect(numbers == [.number(1), .number(2.5), .number(-300)])
    }

    @Test("malformed JSON is refused with the line and column of the problem", arguments: [
        ("{\n  \"a\": 01}", "invalid JSON at line 2, column 8: number with a leading zero"),
        ("{\"a\": 1, \"a\": 2}", "invalid JSON at line 1, column 10: key \"a\" appears twice"),
        ("[\"\\q\"]", "invalid JSON at line 1, column 5: invalid escape"),
        ("[\"\\ud800\"]", "invalid JSON at line 1, column 9: unpaired surrogate"),
        ("[1.]", "invalid JSON at line 1, column 4: expected a digit after '.'"),
        ("[1e999]", "invalid JSON at line 1, column 2: number 1e999 is out of range"),
        ("[+1]", "invalid JSON at line 1, column 2: unexpected character"),
        ("[1] 2", "invalid JSON at line 1, column 5: unexpected text after the JSON value"),
        ("{\"a\": [1, 2}", "invalid JSON at line 1, column 12: expected ']'"),
        (String(repeating: "[", count: 65), "invalid JSON at line 1, column 65: nested too deeply"),
    ])
    func malformedDocumentsAreRefused(_ text: String, _ expected: String) {
        #expect(problem(text) == expected)
    }

    @Test("integer-only limits refuse fractions, signs, literals and integers a double cannot hold")
    func integerOnlyLimitsAreStrict() {
        let limits = JSON.Limits(maxDepth: 4, integersOnly: true)
        #expect(problem("[4611686018427387904]", limits: limits) == nil)
        #expect(problem("[2.0]", limits: limits) == "invalid JSON at line 1, column 3: expected an integer")
        #expect(problem("[-2]", limits: limits) == "invalid JSON at line 1, column 2: expected an object, array, string or non-negative integer")
        #expect(problem("[true]", limits: limits) == "invalid JSON at line 1, column 2: expected an object, array, string or non-negative integer")
        #expect(problem("[9007199254740993]", limits: limits) == "invalid JSON at line 1, column 2: integer too large")
        #expect(problem("[18446744073709551616]", limits: limits) == "invalid JSON at line 1, column 2: integer too large")
    }

    @Test("control characters are escaped when quoting")
    func quotingEscapesControlCharacters() {
        #expect(JSON.quoted("a\u{1}b\n\"\\") == #""a\u0001b\n\"\\""#)
    }
}
