module github.com/berthvm/berth

go 1.26.8
