extension Graph {
    /// Copies `other`'s nodes and data into this graph, reading `bindings[input]` wherever `other`
    /// reads one of its inputs, and returns where each of `other`'s values ended up.
    ///
    /// Names are prefixed with `prefix` (a student and a teacher both have a `blocks.0.norm1.weight`).
    /// Data values keep their kind unless `dataKind` re-labels them (a frozen teacher's initializers
    /// become constants, a student's become parameters). Tensors are shared, not copied.
    public mutating func insert(_ other: Graph, prefix: String, bindings: [ValueID: ValueID],
                                dataKind: ((ValueID, Value) -> ValueKind)? = nil) throws -> [ValueID: ValueID] {
        var map: [ValueID: ValueID] = [:]
        for input in other.inputs {
            guard let bound = bindings[input] else {
                throw InvalidInput("graph '\(other.name)'", "input '\(other[input].name)' is not bound")
            }
            guard type(of: bound) == other.type(of: input) else {
                throw InvalidInput("graph '\(other.name)'", "input '\(other[input].name)' is \(other.type(of: input)), bound to \(type(of: bound))")
            }
            map[input] = bound
        }
        for id in other.dataValues {
            let value = other[id]
            let kind = dataKind?(id, value) ?? value.kind
            let copy = addValue(prefix + value.name, value.type, kind: kind)
            tensors[copy] = other.tensors[id]
            map[id] = copy
        }
        for node in other.nodes {
            let outputs = node.outputs.map { output -> ValueID in
                let id = addValue(prefix + other[output].name, other.type(of: output), kind: .intermediate)
                map[output] = id
                return id
            }
            nodes.append(Node(op: node.op, inputs: node.inputs.map { map[$0]! }, outputs: outputs, name: prefix + node.name))
        }
        return map
    }
}
