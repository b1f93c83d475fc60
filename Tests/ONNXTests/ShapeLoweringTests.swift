import GraphIR
import ONNX
import Testing

/// Data-movement and shape ops lower to reshape/slice/concat/… with their ONNX semantics, and
/// shape-computing chains fold away at import.
struct ShapeLoweringTests {
    static let x6 = Tensor([0, 1, 2, 3, 4, 5], shape: [2, 3])

    @Test func shapeChainFoldsToOneReshape() throws {
        // y = Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])): the legacy exporter's flatten.
        var model = ModelSpec(opset: 17)
        model.inputs = [PortSpec("x", [nil, 3, 4])]
        model.outputs = [PortSpec("y", [])]
        model.initializers = [.int64s("zero", [], [0]), .int64s("axes", [1], [0]), .int64s("rest", [1], [-1])]
        model.nodes = [
            NodeSpec("Shape", ["x"], ["s"], name: "shape"),
            NodeSpec("Gather", ["s", "zero"], ["n"], [.int("axis", 0)], name: "gather"),
            NodeSpec("Unsqueeze", ["n", "axes"], ["n1"], name: "unsqueeze"),
            NodeSpec("Concat", ["n1", "rest"], ["target"], [.int("axis", 0)], name: "concat"),
            NodeSpec("Reshape", ["x", "target"], ["y"], name: "reshape"),
        ]
        let graph = try importModel(model, options: .init(batch: 5))
        #expect(graph.nodes.count == 1)
        #expect(graph.nodes.first?.op == .reshape([5, 12]))
        #expect(graph.nodes.first?.name == "reshape")
        #expect(graph.dataValues.isEmpty, "the folded shape constants are pruned")
        #expect(graph[graph.outputs[0]].name == "y")
    }

    @Test func reshapeCopiesZerosInfersMinusOneAndHonoursAllowZero() throws {
        let copy = try importModel(singleNode("Reshape", inputs: [("x", [2, 3, 4]), ("s", [2])], initializers: [.int64s("s", [2], [0, -1])]))
        #expect(copy.nodes.map(\.op) == [.reshape([2, 12])])
        let empty = try importModel(singleNode("Reshape", inputs: [("x", [0, 3]), ("s", [2])], [.int("allowzero", 1)],
                                               initializers: [.int64s("s", [2], [3, 0])], opset: 14))
        #expect(empty.nodes.map(\.op) == [.reshape([3, 0])])
    }

    @Test func flattenSqueezeUnsqueezeAreReshapes() throws {
        #expect(try importModel(singleNode("Flatten", inputs: [("x", [2, 3, 4])], [.int("axis", -1)])).nodes.map(\.op) == [.reshape([6, 4])])
        #expect(try importModel(singleNode("Flatten", inputs: [("x", [2, 3, 4])], [.int("axis", 0)])).nodes.map(\.op) == [.reshape([1, 24])])
        // Squeeze/Unsqueeze axes: an attribute before opset 13, an input from 13.
        #expect(try importModel(singleNode("Squeeze", inputs: [("x", [1, 3, 1])], [.ints("axes", [-1])], opset: 11)).nodes.map(\.op) == [.reshape([1, 3])])
        #expect(try importModel(singleNode("Squeeze", inputs: [("x", [1, 3, 1]), ("a", [1])], initializers: [.int64s("a", [1], [0])], opset: 13))
            .nodes.map(\.op) == [.reshape([3, 1])])
        #expect(try importModel(singleNode("Squeeze", inputs: [("x", [1, 3, 1])], opset: 13)).nodes.map(\.op) == [.reshape([3])])
        #expect(try importModel(singleNode("Unsqueeze", inputs: [("x", [3, 4])], [.ints("axes", [0, -1])], opset: 11)).nodes.map(\.op)
            == [.reshape([1, 3, 4, 1])])
        #expect(try importModel(singleNode("Unsqueeze", inputs: [("x", [3, 4]), ("a", [1])], initializers: [.int64s("a", [1], [1])], opset: 13))
            .nodes.map(\.op) == [.reshape([3, 1, 4])])
    }

    @Test func transposeDefaultsToReversedAxes() throws {
        let y = try run(singleNode("Transpose", inputs: [("x", [2, 3])]), [Self.x6])[0]
        expectClose(y, [0, 3, 1, 4, 2, 5], shape: [3, 2])
    }

    @Test func sliceClampsBoundsAndTakesNegativeSteps() throws {
        let bounds: [TensorSpec] = [.int64s("starts", [2], [-1, 0]), .int64s("ends", [2], [Int64.min, 100]),
                                    .int64s("axes", [2], [1, 0]), .int64s("steps", [2], [-2, 1])]
        let model = singleNode("Slice", inputs: [("x", [2, 3]), ("starts", [2]), ("ends", [2]), ("axes", [2]), ("steps", [2])], initializers: bounds)
        let y = try run(model, [Self.x6])[0]
        expectClose(y, [2, 0, 5, 3], shape: [2, 2])
        let old = singleNode("Slice", inputs: [("x", [2, 3])], [.ints("starts", [1]), .ints("ends", [3]), .ints("axes", [1])], opset: 9)
        expectClose(try run(old, [Self.x6])[0], [1, 2, 4, 5], shape: [2, 2])
    }

    @Test func splitSizesFromAttributeInputOrNumOutputs() throws {
        let x = Tensor([0, 1, 2, 3, 4], shape: [5])
        let attribute = singleNode("Split", inputs: [("x", [5])], outputs: ["a", "b"], [.ints("split", [2, 3])], opset: 11)
        let input = singleNode("Split", inputs: [("x", [5]), ("s", [2])], outputs: ["a", "b"], initializers: [.int64s("s", [2], [2, 3])], opset: 13)
        for model in [attribute, input] {
            let parts = try run(model, [x])
            expectClose(parts[0], [0, 1], shape: [2])
            expectClose(parts[1], [2, 3, 4], shape: [3])
        }
        let uneven = try run(singleNode("Split", inputs: [("x", [5])], outputs: ["a", "b", "c"], [.int("num_outputs", 3)], opset: 18), [x])
        #expect(uneven.map(\.shape) == [[2], [2], [1]])
        let equal = try run(singleNode("Split", inputs: [("x", [2, 3])], outputs: ["a", "b"], opset: 13), [Self.x6])
        expectClose(equal[1], [3, 4, 5], shape: [1, 3])
    }

    @Test func concatGatherExpandTile() throws {
        let concat = try run(singleNode("Concat", inputs: [("a", [2, 3]), ("b", [2, 3])], [.int("axis", -1)]), [Self.x6, Self.x6])[0]
        expectClose(concat, [0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5], shape: [2, 6])
        let gather = singleNode("Gather", inputs: [("x", [2, 3]), ("i", [2])], [.int("axis", 1)], initializers: [.int64s("i", [2], [-1, 0])])
        expectClose(try run(gather, [Self.x6])[0], [2, 0, 5, 3], shape: [2, 2])
        let scalarIndex = singleNode("Gather", inputs: [("x", [2, 3]), ("i", [])], initializers: [.int64s("i", [], [1])])
        expectClose(try run(scalarIndex, [Self.x6])[0], [3, 4, 5], shape: [3])
        // Expand broadcasts both ways: [3,1] with [2,1,4] gives [2,3,4].
        let expand = singleNode("Expand", inputs: [("x", [3, 1]), ("s", [3])], initializers: [.int64s("s", [3], [2, 1, 4])])
        let expanded = try run(expand, [Tensor([1, 2, 3], shape: [3, 1])])[0]
        #expect(expanded.shape == [2, 3, 4])
        #expect(expanded.doubles.prefix(8) == [1, 1, 1, 1, 2, 2, 2, 2])
        let tile = singleNode("Tile", inputs: [("x", [2, 3]), ("r", [2])], initializers: [.int64s("r", [2], [1, 2])])
        expectClose(try run(tile, [Self.x6])[0], [0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5], shape: [2, 6])
    }

    @Test func padFromAttributesInputsAndAxes() throws {
        let x = Tensor([1, 2, 3], shape: [1, 3])
        let old = singleNode("Pad", inputs: [("x", [1, 3])], [.ints("pads", [0, 1, 0, 2]), .float("value", 9)], opset: 10)
        expectClose(try run(old, [x])[0], [9, 1, 2, 3, 9, 9], shape: [1, 6])
        let reflect = singleNode("Pad", inputs: [("x", [1, 3]), ("p", [4])], [.string("mode", "reflect")], initializers: [.int64s("p", [4], [0, 2, 0, 1])], opset: 13)
        expectClose(try run(reflect, [x])[0], [3, 2, 1, 2, 3, 2], shape: [1, 6])
        let axes = singleNode("Pad", inputs: [("x", [1, 3]), ("p", [2]), ("v", []), ("a", [1])], [.string("mode", "edge")],
                              initializers: [.int64s("p", [2], [1, 1]), .floats("v", [], [0]), .int64s("a", [1], [-1])], opset: 18)
        expectClose(try run(axes, [x])[0], [1, 1, 2, 3, 3], shape: [1, 5])
    }

    @Test func shapeSizeRangeAndConstantOfShapeAreComputedAtImport() throws {
        let shape = try importModel(singleNode("Shape", inputs: [("x", [2, 3, 4])], [.int("start", 1), .int("end", -1)], opset: 15))
        #expect(shape.nodes.isEmpty)
        #expect(shape.tensors[shape.outputs[0]]?.int64s == [3])
        let size = try importModel(singleNode("Size", inputs: [("x", [2, 3, 4])]))
        #expect(size.tensors[size.outputs[0]]?.int64s == [24])
        let range = try importModel(singleNode("Range", inputs: [("a", []), ("b", []), ("d", [])],
                                               initializers: [.floats("a", [], [1]), .floats("b", [], [2]), .floats("d", [], [0.25])]))
        #expect(range.tensors[range.outputs[0]]?.floats == [1, 1.25, 1.5, 1.75])
        let fill = TensorSpec.int64s("v", [1], [7])
        let constant = try run(singleNode("ConstantOfShape", inputs: [("s", [2])], [.tensor("value", fill)], initializers: [.int64s("s", [2], [2, 2])]), [])[0]
        #expect(constant.int64s == [7, 7, 7, 7])
        #expect(constant.shape == [2, 2])
    }

    @Test func constantNodesInEveryAttributeForm() throws {
        let forms: [(AttributeSpec, [Double], Shape)] = [
            (.tensor("value", .floats("t", [2], [1.5, -2])), [1.5, -2], [2]),
            (.float("value_float", 3), [3], []),
            (.floats("value_floats", [1, 2]), [1, 2], [2]),
            (.int("value_int", 4), [4], []),
            (.ints("value_ints", [5, 6]), [5, 6], [2]),
        ]
        for (attribute, expected, shape) in forms {
            var model = ModelSpec()
            model.outputs = [PortSpec("c", [])]
            model.nodes = [NodeSpec("Constant", [], ["c"], [attribute])]
            let graph = try importModel(model)
            let tensor = try #require(graph.tensors[graph.outputs[0]])
            expectClose(tensor, expected, shape: shape)
        }
    }

    @Test func importTimeInputsThatAreNotConstantAreReported() throws {
        let model = singleNode("Reshape", inputs: [("x", [2, 3]), ("s", [2])], inputTypes: [1, 7])
        let text = message { _ = try importModel(model) }
        #expect(text?.contains("node 'node' Reshape (ai.onnx opset 17): input 1 ('shape') must be known at import") == true)
        // Binding the input to a tensor makes it a constant.
        let bound = try importModel(model, options: .init(bindings: ["s": Tensor([3, 2] as [Int64], shape: [2])]))
        #expect(bound.nodes.map(\.op) == [.reshape([3, 2])])
        #expect(bound.inputs.count == 1)
    }
}
